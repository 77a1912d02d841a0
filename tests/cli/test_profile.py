"""``t2d profile``: a checkpoint trained by ``t2d train`` profiled end to end, and bad input
(one line, exit 2, nothing written)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.helpers.engine import t2d
from transforms2d.cli import app

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("ckpt")
    res = runner.invoke(app, ["train", "--model", "convnet_xs", "--transforms", "hue",
                              "--n-train", "256", "--n-val", "64", "--n-test", "64",
                              "--epochs", "2", "--batch-size", "64", "--image-size", "16",
                              "--objects", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out / "last.pt"


def test_profile_a_checkpoint_writes_tables_figures_and_summary(checkpoint, tmp_path, runner):
    out = tmp_path / "prof"
    res = runner.invoke(app, ["profile", str(checkpoint), str(checkpoint), "--transforms",
                              "hue,h_flip", "--domains", "objects,random", "--pairs",
                              "40", "--batch-size", "20", "--levels", "5", "--layers", "2",
                              "--resamples", "50", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "16 px" in res.output  # the size it was trained at, read from the checkpoint
    df = pd.read_parquet(out / "profile.parquet")
    assert list(df.columns) == ["model", "untrained", "layer", "domain", "transform", "level",
                                "metric", "value", "ci_low", "ci_high"]
    assert sorted(m[-2:] for m in set(df.model)) == ["#1", "#2"]  # one file twice: apart
    assert df.untrained.any() and (~df.untrained).any()
    assert (df.ci_low <= df.ci_high).all()  # (percentile intervals need not hold the value)
    assert sorted(df[df.level.notna()].level.unique()) == [0.2, 0.4, 0.6, 0.8, 1.0]
    data = json.loads((out / "profile.json").read_text())
    assert data["settings"]["interval"].startswith("95% percentile bootstrap over pairs")
    summary = (out / "summary.md").read_text()
    assert "most invariant to" in summary and "untrained" in summary
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"bars.png", "strength.png", "layers_1.png"} <= figs


@pytest.mark.parametrize("args, message", [
    (["{junk}"], "not a model file"),
    (["no_such_pkg_xyz.models:net"], "Cannot import entry point"),
    (["os.path:sep"], "is not callable"),
    (["json:loads"], "raised TypeError"),
    (["json:JSONDecoder"], "returned a JSONDecoder, not an nn.Module"),
    (["{ckpt}", "--layer", "nope"], "no layer 'nope'; layers:"),
    (["{ckpt}", "--domains", "folder:{empty}"], "No images"),
    (["{ckpt}", "--transforms", "spin"], "Unknown transform 'spin'"),
    (["{ckpt}", "--mean", "0.5,0.5"], "needs 3 values"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(args, message, checkpoint, tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"garbage")
    (tmp_path / "empty").mkdir()
    fill = dict(junk=tmp_path / "junk.pt", ckpt=checkpoint, empty=tmp_path / "empty")
    out = tmp_path / "out"
    res = t2d("profile", *[a.format(**fill) for a in args], "--pairs", "10", "--out", str(out),
              timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("Error:") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 3  # one line, wrapped by the console
    if message:
        assert message in " ".join(res.stderr.split())
    assert not out.exists()
