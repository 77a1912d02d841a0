"""``t2d run --config FILE``: a whole grid defined as data, run by the same engine; the two
worked examples under ``examples/`` run at smoke size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import transforms2d as t2d
from transforms2d.cli import app
from transforms2d.errors import ConfigError
from transforms2d.study.config import check_config, load_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("one_thread")


def smoke(cfg: dict) -> dict:
    """The example's grid at smoke size: 1 seed, 16 px, a few hundred samples, 1-2 epochs."""
    small = {"n": 120, "image_size": 16}
    out = {**cfg, "seeds": 1, "source": {**cfg["source"], **small, "n": 200},
           "train": {**cfg["train"], "epochs": 2, "batch_size": 64},
           "source_val": {"n": 40}}
    out["probes"] = [{**p, "train": {**p["train"], **small}, "test": {"n": 60},
                      "probe": {"epochs": 5}} for p in cfg["probes"]]
    out["invariance"] = [{**t, "data": {**t["data"], "n": 60}} for t in cfg["invariance"]]
    return out


def test_the_blur_example_runs_reports_and_rebuilds(tmp_path, runner):
    cfg = smoke(yaml.safe_load((ROOT / "examples" / "blur_transfer.yaml").read_text()))
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--config", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rec = json.loads((out / "experiment.json").read_text())
    assert rec["experiment"] == "config:blur-transfer" and len(rec["runs"]) == 2
    assert json.loads((out / "config.json").read_text()) == load_config(path)
    report = (out / "report.md").read_text()
    assert "invariance blur_random_data l2" in report and "probe other_objects test_acc" in report
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0 and (out / "report.md").read_text() == report
    df = t2d.load_results(out)
    assert sorted(df["config/model"]) == ["convnet_xs", "resnet_s"]
    assert (df.status == "done").all() and (df["config/probes"] == "other_objects").all()
    rerun = runner.invoke(app, ["run", "--config", str(path), "--out", str(out)])
    assert rerun.exit_code == 0 and "2 reused" in rerun.output


def test_the_e4_example_runs_with_its_own_architecture(tmp_path):
    out = tmp_path / "e4"
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "e4_my_architecture.py"),
                          "--profile", "smoke", "--seeds", "1", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr + res.stdout
    rec = json.loads((out / "experiment.json").read_text())
    assert rec["overrides"] == {"model": "wide_shallow"}
    specs = [json.loads((out / "runs" / h / "spec.json").read_text()) for h in rec["runs"]]
    assert {s["model"] for s in specs} == {"wide_shallow"}
    assert "C8" in (out / "report.md").read_text()


GOOD = {"name": "x", "models": ["convnet_xs"], "source": {"objects": 4, "n": 40}}


@pytest.mark.parametrize("text, suffix, message", [
    ("name: x\nmodels: [convnet_xs]\nsource: {objects: 4}\nepochs: 3\n", ".yaml",
     "unknown field 'epochs'; valid: name, seeds, models"),
    ("name: x\nmodels: [convnet_xs\nsource: {}\n", ".yaml", "line 3, column"),
    ('name = "x"\nmodels = [convnet_xs]\n', ".toml", "line 2"),
    ('{"name": "x", "models": ["convnet_xs"]}', ".json", "'source' field is required"),
    ('{"name": "x", "models": ["convnet_xs"], "source": {"objets": 4}}', ".json", "objets"),
    ('{"name": "x", "models": ["convnet_xs"], "source": {}, "seeds": 0}', ".json",
     "'seeds' must be an int >= 1"),
    ("name: x\n", ".ini", "must be .yaml, .yml, .toml or .json"),
])
def test_bad_configs_are_one_line_errors(tmp_path, runner, text, suffix, message):
    path = tmp_path / f"c{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(path)
    res = runner.invoke(app, ["run", "--config", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and not (tmp_path / "o").exists()


def test_config_and_experiment_name_are_exclusive(tmp_path, runner):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(GOOD))
    assert check_config(GOOD)["seeds"] == 1
    res = runner.invoke(app, ["run", "demo", "--config", str(path)])
    assert res.exit_code == 2 and "drop the experiment name" in res.output
