"""``t2d reproduce``: the four experiments of the paper, resumable, under one progress display,
then ``OUT/REPORT.md`` (see :mod:`transforms2d.experiments.reproduce`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli import app, console, err, fail
from .errors import ConfigError


@app.command("reproduce")
def reproduce_cmd(
    profile: Annotated[str, typer.Option(help="quick (~22 min on a 2-core CPU), smoke (seconds, "
                                         "for tests) or paper (the authors' sizes; GPUs).")]
    = "quick",
    out: Annotated[Path, typer.Option(help="Output folder: one experiment folder per "
                                      "experiment and REPORT.md.")] = Path("results"),
    seeds: Annotated[int | None, typer.Option(help="Seeds per configuration (default: 3; "
                                              "10 for paper).")] = None,
    experiments: Annotated[str, typer.Option(help="Comma-separated experiments to run.")]
    = "e1,e2,e3,e4",
    executor: Annotated[str | None, typer.Option(help="local, pool or ray (default: pool on a "
                                                 "CPU with several cores, else local).")]
    = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes of the pool executor "
                                                "(default: one per CPU).")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (with "
                                                    "--executor ray).")] = None,
) -> None:
    """Run the paper's experiments E1-E4 (a rerun resumes) and write OUT/REPORT.md with the
    wall times, the claims C1-C8 and every figure. Exits 1 if any run failed."""
    import inspect

    from .experiments import get_executor, get_experiment
    from .experiments.display import GridProgress
    from .experiments.pool_executor import available_cpus
    from .experiments.registry import check_profile
    from .experiments.report import write_report
    from .experiments.reproduce import DEFAULT_SEEDS, plan, reproduce
    from .train import resolve_device

    try:
        check_profile(profile)
        seeds = seeds if seeds is not None else DEFAULT_SEEDS[profile]
        names = [get_experiment(n.strip()).name for n in experiments.split(",") if n.strip()]
        if not names:
            raise ConfigError("--experiments is empty; pass e.g. e1,e2,e3,e4.")
        if executor is None:
            executor = "pool" if device == "cpu" and available_cpus() > 1 else "local"
        if ray_address is not None and executor != "ray":
            raise ConfigError("--ray-address needs --executor ray.")
        if workers is not None and executor != "pool":
            raise ConfigError("--workers needs --executor pool; add it or drop --workers.")
        options = ({"address": ray_address} if executor == "ray" else
                   {"workers": workers} if executor == "pool" else {})
        runner = get_executor(executor, device=device, **options)
        if executor != "ray":
            resolve_device(device)
        grids = plan(out, names, profile, seeds)
    except ConfigError as e:
        fail(e)
    total = sum(len(specs) for _, specs, _ in grids)
    settings = {"profile": profile, "seeds": seeds, "executor": executor,
                "workers": getattr(runner, "workers", None), "device": device}
    extra_ok = "on_progress" in inspect.signature(runner.run).parameters
    with GridProgress(total, f"reproduce ({profile})", console=console) as display:
        def run_grid(name, specs, store):
            extra = {"on_progress": display.on_progress} if extra_ok else {}
            return runner.run(specs, store, display.on_event, **extra)

        def report(store):
            from .experiments import get_experiment as get
            return write_report(store, get(str(store.experiment().get("experiment"))))
        try:
            summaries = reproduce(out, grids, run_grid, settings, report)
        except ConfigError as e:
            fail(e)
    failed = {h: msg for s in summaries.values() for h, msg in s.failed.items()}
    for name, s in summaries.items():
        console.print(f"{name}: {s.total} runs, {len(s.computed)} computed, {len(s.reused)} "
                      f"reused, {len(s.failed)} failed", highlight=False)
    console.print(f"wrote {out / 'REPORT.md'}", highlight=False)
    if failed:
        for h, msg in failed.items():
            err.print(f"failed {h}: {msg}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1)
