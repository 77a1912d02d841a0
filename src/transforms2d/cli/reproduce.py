"""``t2d reproduce``: the paper's experiments, resumable, under one progress display, then
``OUT/REPORT.md`` (see :mod:`transforms2d.study.reproduce`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import ConfigError
from ..validation import offset_seeds, seed_record
from . import grids
from . import options as opt
from .app import app, console, fail
from .experiments import _write_report, make_runner, rehearsal_settings


@app.command("reproduce")
def reproduce_cmd(
    profile: opt.ReproduceProfile = "quick", out: opt.ReproduceOut = None,
    seeds: opt.ReproduceSeeds = None, seed_offset: opt.SeedOffset = 0,
    experiments: opt.Experiments = None, executor: opt.ReproduceExecutor = None,
    workers: opt.ReproduceWorkers = None, device: opt.Device = "cpu",
    ray_address: opt.ReproduceRayAddress = None, show_plan: opt.ShowPlan = True,
    rehearse: opt.Rehearse = False, rehearse_batch: opt.RehearseBatch = None,
    compile_: opt.Compile = False, gpus_per_run: opt.GpusPerRun = None,
    shared_store: opt.SharedStore = False,
) -> None:
    """Run the paper's experiments E1-E4 (a rerun resumes) and write OUT/REPORT.md with the
    wall times, the claims C1-C8 and every figure. Exits 1 if any run failed."""
    from ..study.reproduce import plan, reproduce

    try:
        names = _experiment_names(experiments, profile)
        seeds = offset_seeds(seeds if seeds is not None else _default_seeds(profile),
                             seed_offset)
        executor = executor or _default_executor(device)
        runner = make_runner(executor, device, workers, ray_address, gpus_per_run, compile_,
                             shared_store)
        rehearsal = rehearsal_settings(rehearse, rehearse_batch)
        out = out if out is not None else Path("rehearsal" if rehearse else "results")
        planned = plan(out, names, profile, seeds, rehearsal)
    except ConfigError as e:
        fail(e)
    if show_plan and executor != "ray" and not rehearse:  # a rehearsal costs minutes
        _print_pending(planned, profile, device)
    settings = {"profile": profile, **seed_record(seeds), "executor": executor,
                "workers": getattr(runner, "workers", None), "device": device,
                **({"rehearsal": rehearsal} if rehearsal else {})}
    total = sum(len(specs) for _, specs, _ in planned)
    try:
        with grids.progress(runner, total, f"reproduce ({profile})") as run:
            summaries = reproduce(out, planned, lambda name, specs, store: run(specs, store),
                                  settings, _write_report)
    except ConfigError as e:
        fail(e)
    for name, s in summaries.items():
        console.print(grids.summary_line(name, s), highlight=False)
    console.print(f"wrote {out / 'REPORT.md'}", highlight=False)
    for exp, _, store in planned:
        grids.print_failures(summaries[exp.name].failed, store)
    if any(s.failed for s in summaries.values()):
        raise typer.Exit(1)


def _experiment_names(experiments: str | None, profile: str) -> list[str]:
    """The experiments to run (default: every paper experiment), each checked for
    ``profile``."""
    from ..study import get_experiment, paper_experiments

    listed = paper_experiments() if experiments is None else experiments.split(",")
    exps = [get_experiment(n.strip()) for n in listed if n.strip()]
    if not exps:
        raise ConfigError("--experiments is empty; pass e.g. e1,e2,e3,e4.")
    for exp in exps:
        exp.check_profile(profile)
    return [exp.name for exp in exps]


def _default_seeds(profile: str) -> int:
    from ..study.reproduce import DEFAULT_SEEDS

    return DEFAULT_SEEDS.get(profile, 3)


def _default_executor(device: str) -> str:
    """pool on a CPU with several cores, else local."""
    from ..engine.pool_executor import available_cpus

    return "pool" if device == "cpu" and available_cpus() > 1 else "local"


def _print_pending(planned, profile: str, device: str) -> None:
    """The cost plan of the runs not done yet (``t2d plan``)."""
    from ..engine import spec_hash
    from ..engine.plan import costs
    from .experiments import print_plan

    print_plan([(exp.name, costs(s for s in specs if store.status(spec_hash(s)) != "done"))
                for exp, specs, store in planned], profile, device)

