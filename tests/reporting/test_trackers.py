"""``t2d run --log csv,tensorboard,mlflow,wandb``: every finished run's curves and final
numbers, read back from the files the trackers wrote and compared with the stored results (the
Ray executor's: tests/engine/test_ray.py)."""

from __future__ import annotations

import csv
import json
import os

import pytest

from tests.helpers.engine import SMOKE, t2d
from tests.helpers.trackers import TRACKED_CONFIG, check_logged, wandb_env
from transforms2d.cli import app
from transforms2d.errors import ConfigError
from transforms2d.reporting.trackers import parse_trackers, points

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def logged(tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("tracked") / "demo"
    res = runner.invoke(app, ["run", "demo", *SMOKE, "--log", "csv,tensorboard", "--out",
                              str(out)])
    assert res.exit_code == 0, res.output
    return out


def results(out):
    runs = json.loads((out / "experiment.json").read_text())["runs"]
    return {h: json.loads((out / "runs" / h / "result.json").read_text()) for h in runs}


def test_csv_holds_every_point_of_every_run(logged):
    rows = list(csv.DictReader((logged / "logs" / "metrics.csv").open()))
    for h, res in results(logged).items():
        mine = [(r["series"], int(r["step"]), r["metric"], float(r["value"]))
                for r in rows if r["run"] == h]
        assert mine == list(points(res))
        assert {r["model"] for r in rows if r["run"] == h} == {res["spec"]["model"]}
        series = {s for s, *_ in mine}
        assert {"pretrain", "final"} <= series and any(s.startswith("probe/") for s in series)


def test_a_rerun_logs_nothing_twice(logged, runner):
    before = (logged / "logs" / "metrics.csv").read_text()
    res = runner.invoke(app, ["run", "demo", *SMOKE, "--log", "csv", "--out", str(logged)])
    assert res.exit_code == 0 and "reused" in res.output
    assert (logged / "logs" / "metrics.csv").read_text() == before


def test_tensorboard_event_files_hold_the_curves(logged):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for h, res in results(logged).items():
        acc = EventAccumulator(str(logged / "logs" / "tensorboard" / h))
        acc.Reload()
        loss = [e.value for e in acc.Scalars("pretrain/loss")]
        assert loss == pytest.approx([row["loss"] for row in res["pretrain"]["history"]],
                                     rel=1e-6)
        name, probe = next(iter(res["probes"].items()))  # an L-BFGS probe: its solve's end
        objective = acc.Scalars(f"probe/{name}/objective")
        assert [(e.step, e.value) for e in objective] == [
            (probe["solver"]["iterations"], pytest.approx(probe["solver"]["objective"], rel=1e-6))]


def test_unknown_tracker_is_a_one_line_error(tmp_path, runner):
    with pytest.raises(ConfigError, match="Unknown tracker 'neptune'"):
        parse_trackers("csv,neptune")
    res = runner.invoke(app, ["run", "demo", *SMOKE, "--log", "neptune", "--out",
                              str(tmp_path / "x")])
    assert res.exit_code == 2 and not (tmp_path / "x").exists()


# MLflow (local file store) and W&B (offline), read back with their own readers. Both are in
# the dev extra: a missing one fails here (ImportError), it is not skipped.

@pytest.fixture
def wandb_offline(tmp_path, monkeypatch):
    for k, v in wandb_env(tmp_path).items():
        monkeypatch.setenv(k, v)


@pytest.mark.slow
def test_cli_demo_smoke_logs_to_mlflow_and_wandb(tmp_path):
    """Exactly ``t2d run demo --profile smoke --log mlflow,wandb`` (in a fresh folder), then a
    rerun that reuses both runs and logs nothing twice."""
    env = {**os.environ, **wandb_env(tmp_path)}
    env.pop("MLFLOW_ALLOW_FILE_STORE", None)  # the tracker must allow its file store itself
    args = ("run", "demo", "--profile", "smoke", "--log", "mlflow,wandb")
    proc = t2d(*args, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = tmp_path / "results" / "demo"
    check_logged(out, "demo")
    before = sorted(p.relative_to(out) for p in (out / "logs").rglob("*") if p.is_dir())
    proc = t2d(*args, cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "0 computed, 2 reused" in proc.stdout, proc.stdout
    check_logged(out, "demo")
    assert sorted(p.relative_to(out) for p in (out / "logs").rglob("*") if p.is_dir()) == before


@pytest.mark.slow
def test_pool_executor_runs_arrive_in_mlflow_and_wandb(tmp_path, runner, wandb_offline):
    """Several epochs, an Adam probe's loss curve, an L-BFGS probe's end and the finals."""
    config = tmp_path / "tracked.yaml"
    config.write_text(TRACKED_CONFIG)
    out = tmp_path / "tracked"
    res = runner.invoke(app, ["run", "--config", str(config), "--executor", "pool",
                              "--workers", "2", "--log", "mlflow,wandb", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 computed" in res.output
    check_logged(out, "config:tracked")
    # W&B's service was shut down: a t2d started from this process later starts its own (it
    # wrote through ours and lost its .wandb log, before the tracker closed the service)
    assert "WANDB_SERVICE" not in os.environ
