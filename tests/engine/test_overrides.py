"""``t2d run E --set key=value``: a size of the profile changed without editing source, recorded
in experiment.json and honoured by ``t2d report``; bad keys and values are one-line errors."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.helpers.engine import SMOKE
from transforms2d.cli import app
from transforms2d.engine.overrides import parse_sets, resolve
from transforms2d.errors import ConfigError
from transforms2d.study import get_experiment
from transforms2d.study.demo import SIZES
from transforms2d.study.e1 import grid as e1_grid


def test_overrides_build_new_sizes_and_leave_the_table_alone():
    exp = get_experiment("demo")
    before = dict(SIZES)
    smoke = SIZES["smoke"]
    changed = exp.specs("smoke", 1, {"epochs": "3", "n": "240"})
    base = exp.specs("smoke", 1)  # built after: an override does not linger
    assert [s.train["epochs"] for s in changed] == [3] * len(base)
    assert [s.source["n"] for s in changed] == [240] * len(base)
    assert [s.train["epochs"] for s in base] == [smoke.epochs] * len(base)
    assert [s.source["n"] for s in base] == [smoke.n] * len(base)
    assert before == SIZES and SIZES["smoke"] is smoke  # the same values, unchanged
    assert exp.sizes_for("smoke", {"epochs": "3"}) == dataclasses.replace(smoke, epochs=3)


def test_two_grids_with_different_overrides_do_not_affect_each_other():
    exp = get_experiment("e1")
    few, many = (exp.sizes_for("smoke", {"epochs": str(k)}) for k in (2, 5))
    grids = [e1_grid.cells(few, 1), e1_grid.cells(many, 1), e1_grid.cells(few, 1)]
    epochs = [{c.spec.train["epochs"] for c in g if c.axis != "budget"} for g in grids]
    assert epochs == [{2}, {5}, {2}]
    assert grids[0] == grids[2] and e1_grid.SIZES["smoke"].epochs == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        few.epochs = 9  # type: ignore[misc]


@pytest.mark.parametrize("sets, message", [
    ({"epoch": "2"}, "Unknown size 'epoch' for demo --profile smoke; valid: batch_size, epochs, "
                      "extend, fit_samples, image_size, keep, model, n, n_inv, n_probe, "
                      "stop_train_acc, views"),
    ({"epochs": "two"}, "epochs takes an int"),
    ({"views": "1.5"}, "views takes an int"),
])
def test_bad_overrides_name_the_key(sets, message):
    with pytest.raises(ConfigError, match=message):
        resolve(SIZES, "smoke", sets, "demo")


def test_parse_sets():
    assert parse_sets(["epochs=2", " model = resnet_s "]) == {"epochs": "2", "model": "resnet_s"}
    with pytest.raises(ConfigError, match="key=value"):
        parse_sets(["epochs"])


def test_run_with_set_records_it_and_the_report_uses_it(tmp_path, runner, one_thread):
    out = tmp_path / "demo"
    res = runner.invoke(app, ["run", "demo", *SMOKE, "--set", "epochs=2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rec = json.loads((out / "experiment.json").read_text())
    assert rec["overrides"] == {"epochs": 2}
    specs = [json.loads((out / "runs" / h / "spec.json").read_text()) for h in rec["runs"]]
    assert {s["train"]["epochs"] for s in specs} == {2}
    report = (out / "report.md").read_text()
    assert "with `epochs=2`" in report
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0 and (out / "report.md").read_text() == report
    bad = runner.invoke(app, ["run", "demo", *SMOKE, "--set", "epoch=2", "--out",
                              str(tmp_path / "x")])
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()
