"""``t2d run --log csv,tensorboard``: every finished run's curves and final numbers, read back
from the files the trackers wrote and compared with the stored results."""

from __future__ import annotations

import csv
import json

import pytest

from tests.helpers.engine import SMOKE
from transforms2d.cli import app
from transforms2d.engine.trackers import parse_trackers, points
from transforms2d.errors import ConfigError

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
