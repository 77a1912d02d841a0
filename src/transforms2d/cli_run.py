"""``t2d run``, ``t2d status`` and ``t2d report``: experiments as grids of stored runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .cli import app, console, err, fail
from .errors import ConfigError

Folder = Annotated[Path, typer.Argument(help="An experiment folder written by t2d run.")]


def _records(store, hashes: list[str]) -> list[dict]:
    """Stored results of the done runs, with their validated specs (computes nothing)."""
    out = []
    for h in hashes:
        res = store.result(h)
        if res is not None:
            out.append({"hash": h, "spec": store.load_spec(h), "result": res})
    return out


def _write_report(store) -> tuple[Path, str, int]:
    from .experiments import get_experiment
    from .io import atomic_write

    hashes = store.hashes()  # first: a folder without experiment.json is the error to report
    exp = get_experiment(str(store.experiment().get("experiment")))
    records = _records(store, hashes)
    md = exp.aggregate(records)["markdown"] if records else f"# {exp.name}: no finished runs\n"
    if len(records) < len(hashes):
        md += f"\n{len(hashes) - len(records)} of {len(hashes)} runs are not done yet.\n"

    def write(tmp: str) -> None:
        Path(tmp).write_text(md)
    return atomic_write(store.root / "report.md", write), md, len(records)


@app.command("run")
def run_cmd(
    experiment: Annotated[str, typer.Argument(help="Experiment name (e.g. demo).")],
    profile: Annotated[str, typer.Option(help="smoke, quick or paper.")] = "quick",
    seeds: Annotated[int, typer.Option(help="Seeds per configuration.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Experiment folder (default: "
                                             "results/EXPERIMENT).")] = None,
    executor: Annotated[str, typer.Option(help="local (in-process).")] = "local",
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
) -> None:
    """Compute an experiment's runs not yet done into OUT/runs/<hash>/ (a rerun resumes),
    then write OUT/report.md. Exits 1 and lists the failures if any run failed."""
    from .experiments import RunStore, get_executor, get_experiment, spec_hash
    from .experiments.executors import unique
    from .experiments.store import sweep_tmp
    from .train import resolve_device

    out = out or Path("results") / experiment
    try:
        exp = get_experiment(experiment)
        specs = unique(exp.specs(profile, seeds))
        runner = get_executor(executor, device=device)
        resolve_device(device)
        store = RunStore(out)
        for spec in specs:  # a hand-edited spec.json stops us before anything is touched
            store.check_spec(spec)
        store.claim(experiment, profile, seeds, [spec_hash(s) for s in specs])
    except ConfigError as e:
        fail(e)
    sweep_tmp(store.root)  # debris of a killed run; the local executor is the only writer
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"{experiment} ({profile})", total=len(specs))

        def on_event(kind: str, h: str, i: int, total: int) -> None:
            if kind == "start":
                bar.update(task, description=f"{experiment} ({profile}): run {h}")
            else:
                bar.advance(task)
        summary = runner.run(specs, store, on_event)
    console.print(f"{experiment} ({profile}, {seeds} seed(s)): {summary.total} runs, "
                  f"{len(summary.computed)} computed, {len(summary.reused)} reused, "
                  f"{len(summary.failed)} failed")
    try:
        path, _, _ = _write_report(store)
        console.print(f"wrote {path}")
    except ConfigError as e:
        err.print(f"[yellow]report skipped:[/] {e}", highlight=False, soft_wrap=True)
    if summary.failed:
        for h, msg in summary.failed.items():
            err.print(f"failed {h}: {msg} (see {store.run_dir(h) / 'error.json'})",
                      highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1)


@app.command("status")
def status_cmd(folder: Folder) -> None:
    """Count an experiment folder's runs by status (done / failed / pending)."""
    from .experiments import DONE, FAILED, PENDING, RunStore

    store = RunStore(folder)
    try:
        hashes = store.hashes()
    except ConfigError as e:
        fail(e)
    rec = store.experiment()
    states = {h: store.status(h) for h in hashes}
    counts = {s: sum(v == s for v in states.values()) for s in (DONE, FAILED, PENDING)}
    console.print(f"{rec['experiment']} ({rec.get('profile')}, {rec.get('seeds')} seed(s)): "
                  f"{len(hashes)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
                  highlight=False)
    for h, s in states.items():
        if s == FAILED:
            e = store.error(h) or {}
            console.print(f"failed {h}: {e.get('type', '?')}: {e.get('message', '?')}",
                          highlight=False, markup=False)


@app.command("report")
def report_cmd(folder: Folder) -> None:
    """Rebuild FOLDER/report.md from the stored results (computes nothing)."""
    from .experiments import RunStore

    store = RunStore(folder)
    try:
        path, md, n = _write_report(store)
    except ConfigError as e:
        fail(e)
    console.print(md, markup=False, highlight=False)
    console.print(f"wrote {path} ({n} runs)")

