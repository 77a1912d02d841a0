"""Experiment trackers: ``t2d run ... --log csv,tensorboard,mlflow,wandb``.

The driver logs each run when it finishes (computed here, on a pool worker, on a Ray node, or
reused from the folder), from its stored record: every pretraining epoch's row (loss, accuracy,
learning rate), every probe's loss curve (one step per probe epoch) and the final numbers
(pretraining, probe accuracies, invariance metrics), tagged with the run hash, the experiment
and the spec's main fields. Curves therefore arrive once per run, with their true epoch steps,
whatever executor computed them. ``csv`` is always available (``OUT/logs/metrics.csv``:
``run, experiment, model, seed, series, step, metric, value``); the others load their library
when asked and fail in one line if it is missing. Offline modes only: TensorBoard writes event
files under ``OUT/logs/tensorboard/<hash>``, MLflow a file store under ``OUT/logs/mlruns``, W&B
runs with ``mode="offline"`` under ``OUT/logs/wandb`` (docs/engine.md says how to view them).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, unknown_name
from ..validation import comma_items

COLUMNS = ("run", "experiment", "model", "seed", "series", "step", "metric", "value")


def points(result: dict) -> Iterator[tuple[str, int, str, float]]:
    """``(series, step, metric, value)`` of a stored result: the pretraining history, every
    probe's loss curve (Adam) or its solver's final objective and gradient at its last
    iteration (L-BFGS), and the final numbers (step 0)."""
    pre = result.get("pretrain") or {}
    for row in pre.get("history") or []:
        step = int(row.get("epoch", 0))
        for k, v in row.items():
            if k != "epoch" and isinstance(v, int | float) and not isinstance(v, bool):
                yield "pretrain", step, k, float(v)
    for name, probe in (result.get("probes") or {}).items():
        for step, v in enumerate(probe.get("loss_curve") or []):
            yield f"probe/{name}", step, "loss", float(v)
        solver = probe.get("solver") or {}  # an L-BFGS probe: how its solve ended
        for k in ("objective", "grad_max"):
            if isinstance(solver.get(k), int | float):
                yield f"probe/{name}", int(solver.get("iterations", 0)), k, float(solver[k])
        for k, v in probe.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                yield "final", 0, f"probe/{name}/{k}", float(v)
    for k, v in (pre.get("final") or {}).items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            yield "final", 0, f"pretrain/{k}", float(v)
    for name, inv in (result.get("invariance") or {}).items():
        for k, v in inv.items():
            yield "final", 0, f"invariance/{name}/{k}", float(v)


def tags(result: dict, experiment: str) -> dict[str, Any]:
    spec = result.get("spec") or {}
    source = spec.get("source") or {}
    return {"run": result.get("spec_hash"), "experiment": experiment, "model": spec.get("model"),
            "seed": spec.get("seed"), "source_transforms": ",".join(source.get("transforms", [])),
            "source_n": source.get("n")}


class CsvTracker:
    """Appends every point of every finished run to ``OUT/logs/metrics.csv``."""

    def __init__(self, root: Path) -> None:
        self.path = root / "logs" / "metrics.csv"
        self.seen: set | None = None  # the file is touched at the first run logged

    def _open(self) -> set:
        if self.seen is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                with self.path.open("w", newline="") as f:
                    csv.writer(f).writerow(COLUMNS)
            with self.path.open(newline="") as f:  # runs logged by an earlier t2d run
                self.seen = {row["run"] for row in csv.DictReader(f)}
        return self.seen

    def log(self, result: dict, experiment: str) -> None:
        t = tags(result, experiment)
        if t["run"] in self._open():
            return
        self.seen.add(t["run"])
        with self.path.open("a", newline="") as f:
            w = csv.writer(f)
            for series, step, metric, value in points(result):
                w.writerow((t["run"], experiment, t["model"], t["seed"], series, step, metric,
                            value))


class TensorBoardTracker:
    """One event folder per run: ``OUT/logs/tensorboard/<hash>`` (scalars ``series/metric``,
    the spec's tags as text)."""

    def __init__(self, root: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("--log tensorboard needs the tensorboard package: pip install "
                              "tensorboard.") from None
        self.writer_cls, self.root = SummaryWriter, root / "logs" / "tensorboard"

    def log(self, result: dict, experiment: str) -> None:
        t = tags(result, experiment)
        folder = self.root / str(t["run"])
        if folder.exists():  # logged by an earlier t2d run
            return
        with self.writer_cls(str(folder)) as w:
            w.add_text("spec", ", ".join(f"{k}={v}" for k, v in t.items()))
            for series, step, metric, value in points(result):
                w.add_scalar(f"{series}/{metric}", value, step)


class MlflowTracker:
    """One MLflow run per run, named by its hash and tagged with :func:`tags`, in the local file
    store ``OUT/logs/mlruns`` (experiment = the t2d experiment). Uses its own client, so the
    process's global MLflow tracking URI is left alone."""

    def __init__(self, root: Path) -> None:
        try:
            from mlflow import MlflowClient
            from mlflow.entities import Metric
        except ImportError:
            raise ConfigError("--log mlflow needs mlflow: pip install mlflow-skinny.") from None
        # MLflow >= 3.7 refuses the file store (in maintenance mode) unless this is set; we
        # keep it because it needs no database and `mlflow ui` still reads it.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.uri = (root / "logs" / "mlruns").resolve().as_uri()
        self.client, self.metric = MlflowClient(tracking_uri=self.uri), Metric

    def _experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        return exp.experiment_id if exp is not None else self.client.create_experiment(name)

    def log(self, result: dict, experiment: str) -> None:
        t = tags(result, experiment)
        exp_id = self._experiment_id(experiment)
        if self.client.search_runs([exp_id], f"tags.run = '{t['run']}'", max_results=1):
            return  # logged by an earlier t2d run
        run = self.client.create_run(exp_id, run_name=str(t["run"]),
                                     tags={k: str(v) for k, v in t.items()})
        now = int(time.time() * 1000)
        metrics = [self.metric(f"{series}/{metric}", value, now, step)
                   for series, step, metric, value in points(result)]
        for i in range(0, len(metrics), 1000):  # MLflow's limit of metrics per batch
            self.client.log_batch(run.info.run_id, metrics=metrics[i:i + 1000])
        self.client.set_terminated(run.info.run_id)


class WandbTracker:
    """One offline W&B run per run under ``OUT/logs/wandb`` (``wandb sync`` uploads them
    later): run id and name = the run hash, config = :func:`tags`, project = the experiment.
    Each series is logged against its own step (``pretrain/step``: the epoch,
    ``probe/<name>/step``: the probe epoch or solver iteration); the final numbers go to the
    run summary."""

    def __init__(self, root: Path) -> None:
        try:
            import wandb
        except ImportError:
            raise ConfigError("--log wandb needs wandb: pip install wandb.") from None
        self.wandb, self.dir = wandb, root / "logs"

    def log(self, result: dict, experiment: str) -> None:
        t = tags(result, experiment)
        if list((self.dir / "wandb").glob(f"offline-run-*-{t['run']}")):
            return  # logged by an earlier t2d run
        self.dir.mkdir(parents=True, exist_ok=True)
        settings = self.wandb.Settings(console="off", silent=True, disable_git=True,
                                       save_code=False, x_disable_stats=True)
        run = self.wandb.init(project=experiment.replace(":", "-"), id=str(t["run"]),
                              name=str(t["run"]), config=t, dir=str(self.dir), mode="offline",
                              reinit="create_new", settings=settings)
        try:
            final = {}
            rows: dict[tuple[str, int], dict[str, float]] = {}
            for series, step, metric, value in points(result):
                if series == "final":
                    final[f"final/{metric}"] = value
                else:
                    rows.setdefault((series, step), {})[f"{series}/{metric}"] = value
            for series in dict.fromkeys(s for s, _ in rows):
                run.define_metric(f"{series}/*", step_metric=f"{series}/step")
            for (series, step), row in rows.items():
                run.log({**row, f"{series}/step": step})
            run.summary.update(final)
        finally:
            run.finish()

    def close(self) -> None:
        """Shut this process's W&B service down once its runs are logged: its files are then
        complete, and a ``t2d`` started from this process (its environment holds the service's
        address otherwise) starts its own service instead of writing through ours."""
        self.wandb.teardown()


TRACKERS: dict[str, Callable[[Path], Any]] = {
    "csv": CsvTracker, "tensorboard": TensorBoardTracker, "mlflow": MlflowTracker,
    "wandb": WandbTracker,
}


def parse_trackers(text: str | Sequence[str] | None) -> list[str]:
    items = comma_items(text)
    for t in items:
        if t not in TRACKERS:
            raise unknown_name("tracker", t, TRACKERS)
    return list(dict.fromkeys(items))


class Trackers:
    """The chosen trackers of one experiment folder; :meth:`on_event` logs every run that
    finishes (``done`` or ``skip`` events) once."""

    def __init__(self, names: Sequence[str], store, experiment: str) -> None:
        root = Path(store.root)  # nothing is written before the first finished run
        self.store, self.experiment = store, experiment
        self.trackers = [TRACKERS[n](root) for n in names]  # a missing library fails here
        self.logged: set[str] = set()

    def on_event(self, kind: str, h: str, index: int, total: int) -> None:
        if not self.trackers or kind not in ("done", "skip") or h in self.logged:
            return
        result = self.store.result(h)
        if result is None:
            return
        self.logged.add(h)
        for t in self.trackers:
            t.log(result, self.experiment)

    def close(self) -> None:
        """Flush and release what the trackers hold (W&B's service process)."""
        for t in self.trackers:
            if hasattr(t, "close"):
                t.close()


def chain(*hooks: Callable[..., None]) -> Callable[..., None]:
    """One event hook that calls each of ``hooks`` in turn."""
    def call(*args: Any) -> None:
        for hook in hooks:
            hook(*args)
    return call


