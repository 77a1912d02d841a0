"""The summary of ``t2d reproduce`` (REPORT.md) for a folder without runs (the command itself:
tests/cli/test_reproduce.py)."""

from __future__ import annotations

from transforms2d.study.reproduce import summary_markdown


def test_summary_of_a_folder_without_runs(tmp_path):
    md = summary_markdown(tmp_path, ["e1"])
    assert "No claims computed yet." in md and "Not run yet." in md


def test_an_interrupted_grid_still_adds_its_wall_time(tmp_path):
    """A reproduction stopped mid-grid (Ctrl-C) records the time it spent, so a resumed one
    reports the sum of all its invocations, not only the last."""
    import json

    import pytest

    from transforms2d.study.reproduce import plan, reproduce

    grids = plan(tmp_path, ["e4"], "smoke", 1)

    def interrupted(name, specs, store):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reproduce(tmp_path, grids, interrupted, {"profile": "smoke"}, lambda store: None)
    doc = json.loads((tmp_path / "reproduce.json").read_text())["experiments"]["e4"]
    assert doc["wall_s"] >= 0 and doc["runs_done"] == 0 and doc["runs_total"] == len(grids[0][1])
