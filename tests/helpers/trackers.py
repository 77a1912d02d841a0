"""Read back what ``--log mlflow,wandb`` wrote, with each library's own reader, and what it
should hold: every point of :func:`~transforms2d.reporting.trackers.points` of every stored run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from transforms2d.reporting.trackers import points

# A grid small enough for a test whose runs have several epochs, an Adam probe (a loss curve)
# and an L-BFGS probe (its solver's end), and an invariance target: 2 seeds = 2 runs.
TRACKED_CONFIG = """\
name: tracked
seeds: 2
models: [convnet_xs]
source: {objects: 4, transforms: [hue], n: 64, image_size: 16}
train: {epochs: 3, batch_size: 32}
probes:
  - {name: adam, train: {objects: 4, transforms: [hue], n: 32},
     probe: {solver: adam, epochs: 4, views: 1}}
  - {name: lbfgs, train: {objects: 4, transforms: [], n: 32}, probe: {views: 1}}
invariance:
  - {name: hue, data: {objects: 4, transforms: [hue], n: 32}, metrics: [l2, cos]}
"""


def wandb_env(root: Path) -> dict[str, str]:
    """Environment variables that keep W&B offline and its files under ``root``."""
    return {"WANDB_MODE": "offline", "WANDB_DIR": str(root / "wandb-dir"),
            "WANDB_CACHE_DIR": str(root / "wandb-cache"),
            "WANDB_CONFIG_DIR": str(root / "wandb-config"),
            "WANDB_DATA_DIR": str(root / "wandb-data"), "WANDB_SILENT": "true"}


def stored(folder: Path) -> dict[str, dict]:
    """``{run hash: result}`` of every run of an experiment folder."""
    runs = json.loads((folder / "experiment.json").read_text())["runs"]
    return {h: json.loads((folder / "runs" / h / "result.json").read_text()) for h in runs}


def expected(result: dict) -> tuple[dict[str, list[tuple[int, float]]], dict[str, float]]:
    """``({series/metric: [(step, value)]}, {final/metric: value})`` of one result."""
    curves: dict[str, list[tuple[int, float]]] = {}
    finals = {}
    for series, step, metric, value in points(result):
        if series == "final":
            finals[f"final/{metric}"] = value
        else:
            curves.setdefault(f"{series}/{metric}", []).append((step, value))
    return curves, finals


def mlflow_runs(folder: Path, experiment: str) -> dict[str, tuple[dict, dict]]:
    """``{run tag: (tags, {metric key: [(step, value)]})}`` read with MLflow's client from the
    file store ``folder/logs/mlruns``."""
    from mlflow import MlflowClient

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(folder / "logs" / "mlruns").resolve().as_uri())
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no MLflow experiment {experiment!r}"
    out = {}
    for run in client.search_runs([exp.experiment_id]):
        assert run.info.status == "FINISHED"
        history = {k: sorted((m.step, m.value) for m in client.get_metric_history(
            run.info.run_id, k)) for k in run.data.metrics}
        out[run.data.tags["run"]] = (run.data.tags, history)
    return out


def wandb_records(run_dir: Path) -> list[dict]:
    """The records of an offline run's ``.wandb`` log, read by wandb's own reader
    (``wandb leet inspect --json``)."""
    (log,) = run_dir.glob("run-*.wandb")
    proc = subprocess.run([str(Path(sys.executable).with_name("wandb")), "leet", "inspect",
                           "--json", str(log)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def wandb_runs(folder: Path) -> dict[str, tuple[dict, dict, dict]]:
    """``{run id: (config, {series/metric: [(step, value)]}, summary)}`` of the offline runs
    under ``folder/logs/wandb``; a curve's step is its series' own ``<series>/step``."""
    out = {}
    for run_dir in sorted((folder / "logs" / "wandb").glob("offline-run-*")):
        config, curves, summary = {}, {}, {}
        records = wandb_records(run_dir)
        for rec in records:
            if rec["type"] == "run":
                run_id = rec["run"]["run_id"]
                config = rec["run"]["config"]["update"]
            elif rec["type"] == "history":
                item = rec["history"]["item"]
                for k, v in item.items():
                    series = k.rsplit("/", 1)[0]
                    if not k.startswith("_") and not k.endswith("/step"):
                        curves.setdefault(k, []).append((item[f"{series}/step"], v))
            elif rec["type"] == "summary":
                summary.update(rec["summary"]["update"])
        assert records[-1]["type"] == "exit" and records[-1]["exit"]["exit_code"] == 0
        out[run_id] = (config, curves, summary)
    return out


def check_logged(folder: Path, experiment: str) -> None:
    """Every stored run arrived in MLflow and W&B once, with its tags and all its points."""
    results = stored(folder)
    ml, wb = mlflow_runs(folder, experiment), wandb_runs(folder)
    assert set(ml) == set(results) == set(wb)
    for h, res in results.items():
        curves, finals = expected(res)
        assert "pretrain/loss" in curves and any(k.startswith("probe/") for k in curves)
        want_tags = {"run": h, "model": res["spec"]["model"], "seed": res["spec"]["seed"]}
        tags, history = ml[h]
        assert {k: tags[k] for k in want_tags} == {k: str(v) for k, v in want_tags.items()}
        assert history == {**curves, **{k: [(0, v)] for k, v in finals.items()}}
        config, wb_curves, summary = wb[h]
        assert {k: config[k] for k in want_tags} == want_tags
        assert wb_curves == curves  # JSON floats round-trip exactly
        assert {k: summary[k] for k in finals} == finals
