"""The summary of ``t2d reproduce`` (REPORT.md) for a folder without runs (the command itself:
tests/cli/test_reproduce.py)."""

from __future__ import annotations

from transforms2d.study.reproduce import summary_markdown


def test_summary_of_a_folder_without_runs(tmp_path):
    md = summary_markdown(tmp_path, ["e1"])
    assert "No claims computed yet." in md and "Not run yet." in md
