"""``t2d run E --set key=value``: a size of the profile changed without editing source, recorded
in experiment.json and honoured by ``t2d report``; bad keys and values are one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.helpers.engine import SMOKE
from transforms2d.cli import app
from transforms2d.engine.overrides import parse_sets, resolve
from transforms2d.errors import ConfigError
from transforms2d.study import get_experiment
from transforms2d.study.demo import SIZES


def test_overrides_change_the_specs_and_restore_the_table():
    exp = get_experiment("demo")
    before = json.dumps(SIZES, sort_keys=True)
    base = exp.specs("smoke", 1)
    changed = exp.specs("smoke", 1, {"epochs": "3", "n": "240"})
    assert [s.train["epochs"] for s in changed] == [3] * len(base)
    assert [s.source["n"] for s in changed] == [240] * len(base)
    assert [s.train["epochs"] for s in base] == [SIZES["smoke"]["epochs"]] * len(base)
    assert json.dumps(SIZES, sort_keys=True) == before  # the table is restored


@pytest.mark.parametrize("sets, message", [
    ({"epoch": "2"}, "Unknown size 'epoch' for demo --profile smoke; valid: batch_size, epochs"),
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
