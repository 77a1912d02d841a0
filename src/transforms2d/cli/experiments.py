"""``t2d experiments``, ``t2d run``, ``t2d status`` and ``t2d report``: experiments as grids of
stored runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import ConfigError
from ..validation import offset_seeds, seed_list
from . import grids
from . import options as opt
from .app import RESOURCE_ERRNOS, app, console, err, fail, int_option, resource_error

Folder = Annotated[Path, typer.Argument(help="An experiment folder written by t2d run.")]

def make_runner(executor: str, device: str, workers: int | None, ray_address: str | None,
                gpus_per_run: float | None, compile_: bool, shared_store: bool = False):
    """The executor of ``t2d run`` / ``t2d reproduce`` from their options (checked), with
    ``--compile`` set for this process and the workers it starts."""
    from ..engine import get_executor
    from ..engine.run import COMPILE_ENV
    from ..train import resolve_device

    for flag, value, needs in (("--ray-address", ray_address, "ray"),
                               ("--workers", workers, "pool"),
                               ("--gpus-per-run", gpus_per_run, "ray"),
                               ("--shared-store", shared_store or None, "ray")):
        if value is not None and executor != needs:
            raise ConfigError(f"{flag} needs --executor {needs}; add it or drop {flag}.")
    options = ({"address": ray_address} if executor == "ray" else
               {"workers": workers} if executor == "pool" else {})
    if gpus_per_run is not None:
        options["gpus_per_run"] = gpus_per_run
    if shared_store:
        options["shared_store"] = True
    runner = get_executor(executor, device=device, **options)
    if executor != "ray":  # Ray checks its cluster's GPUs, not this machine's
        resolve_device(device)
    if compile_:
        os.environ[COMPILE_ENV] = "1"
    return runner


def rehearsal_settings(rehearse: bool, batch_cap: int | None) -> dict | None:
    """The rehearsal's settings from the command line, or None for real runs."""
    from ..engine.rehearse import settings

    if batch_cap is not None and not rehearse:
        raise ConfigError("--rehearse-batch needs --rehearse; add it or drop --rehearse-batch.")
    return settings(batch_cap=batch_cap) if rehearse else None


def _write_report(store, html: bool = False):
    """Tables, figures, claims.json and report.md from the stored runs (computes nothing)."""
    from ..reporting.report import write_report
    from ..study import get_experiment
    from ..study.config import PREFIX, load_saved

    store.hashes()  # first: a folder without experiment.json is the error to report
    name = str(store.experiment().get("experiment"))
    exp = load_saved(store.root) if name.startswith(PREFIX) else get_experiment(name)
    try:
        return write_report(store, exp, html=html)
    except ConfigError:
        _check_models_known(store)  # a model a script registered explains it, if one is missing
        raise


def _check_models_known(store) -> None:
    """A grid whose model a script registered (examples/e4_my_architecture.py) is reported
    where that model is registered too: say so rather than "Unknown model" (read only when a
    report failed: every spec is read again)."""
    from ..models import list_models
    from ..models.registry import ALIASES

    known = {*list_models(), *ALIASES}
    missing = sorted({store.load_spec(h).model for h in store.hashes()} - known)
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        raise ConfigError(
            f"{store.root}'s runs use model {names}, not registered in this process: the script "
            f"that ran the grid registered it. Report from Python after that registration, e.g. "
            f"python -c \"import my_models; from transforms2d.cli import main; "
            f"main(['report', '{store.root}'])\" (my_models: the module with "
            f"@register_model; see examples/e4_my_architecture.py).")


@app.command("experiments")
def list_experiments() -> None:
    """List the registered experiments with their aliases and profiles."""
    from ..study import EXPERIMENTS

    table = Table(title="Experiments (registry)")
    for col in ("name", "aliases", "profiles", "paper", "description"):
        table.add_column(col)
    for exp in EXPERIMENTS.values():
        table.add_row(exp.name, ", ".join(exp.aliases), ", ".join(exp.profiles),
                      "yes" if exp.paper else "", escape(exp.description))
    console.print(table)


def _experiment(name, config, profile, seeds, sets):
    """``(experiment, profile, seeds, config)`` of ``t2d run``: a registered experiment, or a
    config file's (then ``config`` is the resolved config)."""
    from ..study import get_experiment
    from ..study.config import experiment, load_config

    if config is None:
        if name is None:
            raise ConfigError("Name an experiment (see `t2d experiments`) or pass --config FILE.")
        exp = get_experiment(name)  # a name or an alias (e1 or tvo)
        return exp, exp.check_profile(profile), seeds, None
    if name is not None or sets:
        raise ConfigError("--config defines the whole grid: drop the experiment name and --set.")
    cfg = load_config(config)
    return experiment(cfg), "config", cfg["seeds"], cfg


@app.command("run")
def run_cmd(
    experiment: opt.Experiment = None, profile: opt.RunProfile = "quick",
    seeds: opt.RunSeeds = 1, seed_offset: opt.SeedOffset = 0, out: opt.RunOut = None,
    executor: opt.RunExecutor = "local", workers: opt.RunWorkers = None,
    device: opt.Device = "cpu", ray_address: opt.RunRayAddress = None,
    config: opt.Config = None, log: opt.Log = "", set_: opt.Sets = None,
    rehearse: opt.Rehearse = False, rehearse_batch: opt.RehearseBatch = None,
    compile_: opt.Compile = False, gpus_per_run: opt.GpusPerRun = None,
    shared_store: opt.SharedStore = False,
) -> None:
    """Compute an experiment's runs not yet done into OUT/runs/<hash>/ (a rerun resumes),
    then write OUT/report.md. Exits 1 and lists the failures if any run failed."""
    from ..engine import RunStore
    from ..engine.grids import claim_grid
    from ..engine.overrides import parse_sets
    from ..reporting.trackers import Trackers, parse_trackers
    from ..study.config import save_config

    try:
        exp, profile, seeds, cfg = _experiment(experiment, config, profile, seeds, set_)
        seeds = offset_seeds(seeds, seed_offset)
        rehearsal = rehearsal_settings(rehearse, rehearse_batch)
        out = out or Path("rehearsal" if rehearse else "results") / exp.name.replace(":", "-")
        sets = exp.resolve(profile, parse_sets(set_ or [])) if config is None else {}
        runner = make_runner(executor, device, workers, ray_address, gpus_per_run, compile_,
                             shared_store)
        names = parse_trackers(log)  # a tracker's missing library fails before any write
        trackers = Trackers(names, RunStore(out), exp.name) if names else None
        specs, store = claim_grid(exp, profile, seeds, out, sets, rehearsal)
        if config is not None:
            save_config(store.root, cfg)
    except ConfigError as e:
        fail(e)
    try:
        with grids.progress(runner, len(specs), f"{exp.name} ({profile})") as run:
            summary = run(specs, store, trackers)
    except ConfigError as e:  # e.g. an unreachable Ray cluster: no run was started
        fail(e)
    console.print(grids.summary_line(f"{exp.name} ({profile}, {len(seed_list(seeds))} seed(s))",
                                     summary))
    report_ok = _report_after_run(store)
    grids.print_failures(summary.failed, store)
    if summary.failed or not report_ok:
        raise typer.Exit(1)


def _report_after_run(store) -> bool:
    """Write the folder's report; False (the runs' state is kept) if the disk refused it."""
    try:
        console.print(f"wrote {_write_report(store).path}")
    except ConfigError as e:
        err.print(f"[yellow]report skipped:[/] {e}", highlight=False, soft_wrap=True)
    except OSError as e:  # a full disk or read-only folder
        if e.errno not in RESOURCE_ERRNOS:
            raise
        err.print(f"[yellow]report skipped:[/] {escape(resource_error(e))}", highlight=False,
                  soft_wrap=True)
        return False
    return True


@app.command("status")
def status_cmd(folder: Folder) -> None:
    """Count an experiment folder's runs by status (done / running / failed / pending); a run
    whose process was killed counts as pending."""
    from ..engine import FAILED, RUNNING, STATUSES, RunStore
    from ..engine.lease import describe

    store = RunStore(folder)
    try:
        hashes = store.hashes()
    except ConfigError as e:
        fail(e)
    rec = store.experiment()
    states = {h: store.status(h) for h in hashes}
    counts = {s: sum(v == s for v in states.values()) for s in STATUSES}
    console.print(f"{rec['experiment']} ({rec.get('profile')}, {rec.get('seeds')} seed(s)): "
                  f"{len(hashes)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
                  highlight=False)
    for h, s in states.items():
        if s == RUNNING:
            console.print(f"running {h}: {describe(store.running(h))}", highlight=False,
                          markup=False)
        if s == FAILED:
            e = store.error(h) or {}
            console.print(f"failed {h}: {e.get('type', '?')}: {e.get('message', '?')}",
                          highlight=False, markup=False)
        for q in store.quarantined(h):
            console.print(f"quarantined {q['file']}: {q['reason']}", highlight=False,
                          markup=False)


@app.command("verify")
def verify_cmd(
    folder: Folder,
    quarantine: Annotated[bool, typer.Option(help="Move every artifact found bad to its run's "
                                             "quarantine/ folder, so that the next t2d run "
                                             "recomputes it.")] = False,
) -> None:
    """Re-check every finished run of FOLDER without computing: spec hash, result complete,
    probe files and checkpoints readable. Exits 1 if anything is wrong."""
    from ..engine import RunStore
    from ..engine.verify import verify

    try:
        report = verify(RunStore(folder), quarantine=quarantine)
    except ConfigError as e:
        fail(e)
    for p in report.problems:
        err.print(f"bad {p}", highlight=False, markup=False, soft_wrap=True)
    for q in report.quarantined:
        console.print(f"moved to {q}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"{folder}: {report.done} of {report.runs} runs done and checked, "
                  f"{len(report.problems)} problem(s)", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("report")
def report_cmd(
    folder: Folder,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html: one "
                                       "self-contained page (figures embedded, sortable "
                                       "tables, colour-coded verdicts).")] = False,
) -> None:
    """Rebuild FOLDER/report.md, tables/, figures/ and claims.json from the stored results
    (computes nothing)."""
    from ..engine import RunStore

    store = RunStore(folder)
    try:
        rep = _write_report(store, html)
    except ConfigError as e:
        fail(e)
    console.print(rep.markdown, markup=False, highlight=False)
    console.print(f"wrote {rep.path} and {len(rep.files)} table/figure/claims files "
                  f"({rep.done} of {rep.total} runs done)", highlight=False)



@app.command("results")
def results_cmd(
    folder: Folder,
    out: Annotated[Path | None, typer.Option(help="Also write the table: .csv or .parquet.")]
    = None,
    all_columns: Annotated[bool, typer.Option("--all", help="Print every column.")] = False,
) -> None:
    """Every run of FOLDER (an experiment folder, or a reproduce folder of several) as one
    table: spec fields (config/...) and metrics (pretrain/..., probe/..., invariance/...);
    transforms2d.load_results(FOLDER) returns it as a pandas DataFrame."""
    from ..reporting.results import load_results

    try:
        if out is not None and out.suffix not in (".csv", ".parquet"):
            raise ConfigError(f"--out must end in .csv or .parquet. Got {out}.")
        df = load_results(folder)
    except ConfigError as e:
        fail(e)
    shown = df if all_columns else df[[c for c in df.columns if c in (
        "experiment", "run", "status", "config/model", "config/seed", "pretrain/train_acc")
        or (c.startswith("probe/") and c.endswith("/test_acc"))][:12]]
    console.print(shown.to_string(index=False, max_rows=60), highlight=False, markup=False,
                  soft_wrap=True)
    console.print(f"{len(df)} runs, {len(df.columns)} columns"
                  + ("" if all_columns else " (--all prints every column)"), highlight=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out, index=False) if out.suffix == ".csv" else df.to_parquet(out, index=False)
        console.print(f"wrote {out}", highlight=False)


def _si(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def _duration(sec: float) -> str:
    return f"{sec / 3600:.1f} h" if sec >= 3600 else f"{sec / 60:.1f} min" if sec >= 60 \
        else f"{sec:.0f} s"


@app.command("plan")
def plan_cmd(
    experiments: Annotated[str, typer.Argument(help="Comma list of experiments (or 'paper': "
                                               "the four of t2d reproduce).")] = "paper",
    profile: Annotated[str, typer.Option(help="Size profile.")] = "quick",
    seeds: Annotated[int | None, int_option(help="Seeds (default: the profile's, as t2d "
                                              "reproduce uses).")] = None,
    seed_offset: Annotated[int, int_option(help="First seed (--seeds 5 --seed-offset 5: seeds "
                                             "5-9, e.g. fresh seeds nobody has seen).")] = 0,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N: where to measure.")] = "cpu",
    out: Annotated[Path | None, typer.Option(help="A reproduce folder: leave out runs done "
                                             "there.")] = None,
    calibration: Annotated[Path | None, typer.Option(
        help="Throughputs measured on another machine (its calibration.json, e.g. from "
             "benchmarks/bench_gpu.py) instead of measuring here: estimate for a GPU you "
             "do not have at hand.")] = None,
) -> None:
    """Estimate what experiments will cost: runs, sample-steps per stage and wall time at a
    throughput measured on this device (cached per machine); computes no run."""
    from ..engine import RunStore, spec_hash, unique
    from ..engine.plan import costs
    from ..study import get_experiment, paper_experiments
    from ..study.reproduce import DEFAULT_SEEDS
    from ..train import resolve_device

    try:
        names = list(paper_experiments()) if experiments == "paper" else \
            [get_experiment(e.strip()).name for e in experiments.split(",") if e.strip()]
        if calibration is None:
            resolve_device(device)
        grids, whole = [], {}
        for name in names:
            exp = get_experiment(name)
            specs = unique(exp.specs(exp.check_profile(profile), offset_seeds(
                seeds or DEFAULT_SEEDS.get(profile, 1), seed_offset)))
            if out is not None:
                whole[name] = costs(specs)
                store = RunStore(out / name)
                specs = [s for s in specs if store.status(spec_hash(s)) != "done"]
            grids.append((name, costs(specs)))
        print_plan(grids, profile, device, calibration, measured_beside(out, whole))
    except ConfigError as e:
        fail(e)


def measured_beside(out: Path | None, whole: dict) -> dict:
    """``{experiment: (Cost of its whole grid, measured computing seconds or None)}`` from a
    reproduce folder's ``reproduce.json`` (empty without ``--out``)."""
    if out is None:
        return {}
    from ..engine.store import read_json

    exps = (read_json(out / "reproduce.json") or {}).get("experiments", {})
    return {n: (c, exps.get(n, {}).get("wall_s")) for n, c in whole.items()}


def print_plan(grids, profile: str, device: str, calibration: Path | None = None,
               measured: dict | None = None) -> None:
    """The cost table of ``[(experiment, Cost)]`` at throughputs measured on ``device`` (or
    read from a ``calibration`` file measured elsewhere); with ``measured``
    (:func:`measured_beside`) also each whole grid's estimate beside the time it took."""
    from ..engine.plan import STAGES, calibrated, seconds, throughputs

    keys = set().union(*(c.architectures() for _, c in grids),
                       *(c.architectures() for c, _ in (measured or {}).values()))
    where = "measured, cached"
    if calibration is not None:
        machine, speed = calibrated(calibration, keys, device)
        where = f"measured on {machine.split('|')[0]}, from {calibration}"
    else:
        speed = throughputs(keys, device, on_measure=lambda k: console.print(
            f"measuring {k[0]} at {k[1]} px on {device} ...", highlight=False))
    table = Table(title=f"Plan: profile {profile} on {device} (serial; pretraining to its "
                        f"epoch cap)")
    beside = ("whole grid: estimated", "measured (reproduce.json)") if measured else ()
    for col in ("experiment", "runs", "pretrain samples", "probe+eval+inv samples",
                "finetune samples", "estimated time", *beside):
        table.add_column(col, justify="right" if col != "experiment" else "left")
    left = whole = took = 0.0  # the totals of the three time columns
    for name, c in grids:
        sec = sum(seconds(c, speed).values())
        left += sec
        extra = ()
        if measured:
            grid, t = measured[name]
            est = sum(seconds(grid, speed).values())
            whole, took = whole + est, took + (t or 0.0)
            extra = (_duration(est), "-" if t is None else _duration(t))
        table.add_row(name, str(c.runs), _si(c.total("pretrain")),
                      _si(sum(c.total(s) for s in STAGES if s not in ("pretrain", "finetune"))),
                      _si(c.total("finetune")), _duration(sec), *extra)
    table.add_row("all", "", "", "", "", _duration(left),
                  *((_duration(whole), _duration(took)) if measured else ()))
    console.print(table)
    if measured:
        console.print("  estimates are serial; measured time is on the workers the run used "
                      "(reproduce.json: time an interrupted process never recorded is missing)",
                      highlight=False)
    for k, v in sorted(speed.items()):
        console.print(f"  {k[0]} at {k[1]} px: {v['train']:.0f} training samples/s, "
                      f"{v['infer']:.0f} inference samples/s ({where})",
                      highlight=False)
