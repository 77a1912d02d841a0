"""``t2d reproduce``: the paper's experiments, resumable, under one progress display, then
``OUT/REPORT.md`` (see :mod:`transforms2d.study.reproduce`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ..validation import offset_seeds, seed_record
from . import grids
from .app import app, console, fail, int_option
from .experiments import (
    COMPILE_HELP,
    GPUS_PER_RUN_HELP,
    REHEARSE_BATCH_HELP,
    REHEARSE_HELP,
    _write_report,
    make_runner,
    rehearsal_settings,
)


@app.command("reproduce")
def reproduce_cmd(
    profile: Annotated[str, typer.Option(help="quick (~30 min on a 2-core CPU; too small for a "
                                         "fair test), cpu (the fair test at CPU sizes: hours "
                                         "on 2 cores, see t2d plan), smoke (seconds, for "
                                         "tests), gpu (paper models and data, fewer "
                                         "epochs: <= 1 h on one H100 by the plan) or paper "
                                         "(the authors' sizes; GPUs).")] =
    "quick",
    out: Annotated[Path | None, typer.Option(help="Output folder: one experiment folder per "
                                             "experiment and REPORT.md (default: results, or "
                                             "rehearsal with --rehearse).")] = None,
    seeds: Annotated[int | None, int_option(help="Seeds per configuration (default: 3; 5 "
                                              "for cpu, 10 for paper).")] = None,
    seed_offset: Annotated[int, int_option(help="First seed (--seeds 5 --seed-offset 5: seeds "
                                             "5-9, e.g. fresh seeds nobody has seen).")] = 0,
    experiments: Annotated[str | None, typer.Option(help="Comma-separated experiments to run "
                                                    "(default: every registered paper "
                                                    "experiment, e1,e2,e3,e4).")] = None,
    executor: Annotated[str | None, typer.Option(help="local, pool or ray (default: pool on a "
                                                 "CPU with several cores, else local).")]
    = None,
    workers: Annotated[int | None, int_option(help="Worker processes of the pool executor "
                                                "(default: one per CPU).")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (with "
                                                    "--executor ray).")] = None,
    show_plan: Annotated[bool, typer.Option("--plan/--no-plan", help="Print the cost plan of "
                                            "the runs not done yet first (t2d plan; not with "
                                            "--executor ray or --rehearse).")] = True,
    rehearse: Annotated[bool, typer.Option(help=REHEARSE_HELP)] = False,
    rehearse_batch: Annotated[int | None, int_option(help=REHEARSE_BATCH_HELP)] = None,
    compile_: Annotated[bool, typer.Option("--compile", help=COMPILE_HELP)] = False,
    gpus_per_run: Annotated[float | None, typer.Option(help=GPUS_PER_RUN_HELP)] = None,
) -> None:
    """Run the paper's experiments E1-E4 (a rerun resumes) and write OUT/REPORT.md with the
    wall times, the claims C1-C8 and every figure. Exits 1 if any run failed."""
    from ..study.reproduce import plan, reproduce

    try:
        names = _experiment_names(experiments, profile)
        seeds = offset_seeds(seeds if seeds is not None else _default_seeds(profile),
                             seed_offset)
        executor = executor or _default_executor(device)
        runner = make_runner(executor, device, workers, ray_address, gpus_per_run, compile_)
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

