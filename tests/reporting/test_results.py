"""``transforms2d.load_results`` and ``t2d results``: every run as one DataFrame row."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import transforms2d as t2d
from transforms2d.cli import app
from transforms2d.errors import ConfigError


def test_every_run_is_one_row_with_config_and_metrics(demo_reference):
    df = t2d.load_results(demo_reference)
    record = json.loads((demo_reference / "experiment.json").read_text())
    assert list(df.run) == record["runs"]
    assert (df.status == "done").all() and (df.experiment == "demo").all()
    assert {"config/model", "config/seed", "config/source.n", "pretrain/train_acc",
            "pretrain/epochs"} <= set(df.columns)
    for h, row in zip(df.run, df.itertuples(index=False)):
        result = json.loads((demo_reference / "runs" / h / "result.json").read_text())
        assert row[df.columns.get_loc("pretrain/train_acc")] == \
            result["pretrain"]["final"]["train_acc"]
        for name, probe in result["probes"].items():
            assert row[df.columns.get_loc(f"probe/{name}/test_acc")] == probe["test_acc"]


def test_a_folder_of_experiments_and_unfinished_runs(demo_reference, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(demo_reference, root / "a")
    shutil.copytree(demo_reference, root / "b")
    runs = json.loads((root / "b" / "experiment.json").read_text())["runs"]
    (root / "b" / "runs" / runs[0] / "result.json").unlink()
    df = t2d.load_results(root)
    assert len(df) == 2 * len(runs)
    row = df[df.run == runs[0]].iloc[1]  # the copy in b/
    assert row.status == "pending" and pd.isna(row["pretrain/train_acc"])
    with pytest.raises(ConfigError, match="holds no experiment"):
        t2d.load_results(tmp_path / "results" / "a" / "runs")


def test_t2d_results_prints_and_writes_the_table(demo_reference, tmp_path, runner):
    res = runner.invoke(app, ["results", str(demo_reference), "--out",
                              str(tmp_path / "r.parquet")])
    assert res.exit_code == 0, res.output
    assert "runs," in res.output and "pretrain/train_acc" in res.output
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back.equals(t2d.load_results(demo_reference))
    bad = runner.invoke(app, ["results", str(demo_reference), "--out", str(tmp_path / "r.x")])
    assert bad.exit_code == 2 and not (tmp_path / "r.x").exists()
