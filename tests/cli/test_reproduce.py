"""``t2d reproduce``: experiment folders, REPORT.md with machine, wall times, claims and
figures; a rerun resumes (computes nothing, keeps the wall time); bad input is one line."""

from __future__ import annotations

import json
import re

import pytest

from transforms2d.cli import app


@pytest.mark.slow
def test_reproduce_writes_report_and_resumes(tmp_path, runner, empty_cifar, one_thread):
    out = tmp_path / "results"
    args = ["reproduce", "--profile", "smoke", "--experiments", "demo,tm", "--seeds", "3",
            "--executor", "local", "--out", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    # e4 smoke: 3 seeds x 3 nested sets, and seed 0's 3 at another budget
    assert "demo: 6 runs, 6 computed" in r.output and "e4: 12 runs, 12 computed" in r.output
    assert "Plan: profile smoke" in r.output  # the cost plan comes first
    report = (out / "REPORT.md").read_text()
    assert "Profile `smoke`, 3 seeds, executor `local`" in report
    assert re.search(r"Machine: .+, \d+ CPUs", report)
    for name in ("demo", "e4"):
        assert (out / name / "report.md").exists()
        assert f"| {name} | " in report and f"({name}/report.md)" in report
        for fig in (out / name / "figures").glob("*.png"):
            assert f"({name}/figures/{fig.name})" in report
    assert "| C8 (e4) |" in report and re.search(r"\| demo \| \w", report)
    # 3 seeds: C8's seeds precondition is unmet, stated after the claims, one row per
    # precondition with the claims it covers; REPORT.html beside it
    assert report.index("## Verdicts") < report.index("## Claims") < report.index(
        "## Preconditions")
    assert re.search(r"\| seeds \| [^|]*C8 \(e4\)[^|]* \| [^|]+ \| 3 seed\(s\), 2 short \| "
                     r"\*\*no\*\* \|", report)
    assert "<h2>Claims</h2>" in (out / "REPORT.html").read_text()
    timing = json.loads((out / "reproduce.json").read_text())
    assert set(timing["experiments"]) == {"demo", "e4"}
    wall = {k: v["wall_s"] for k, v in timing["experiments"].items()}
    assert all(w > 0 for w in wall.values())
    assert all(v["runs_done"] == v["runs_total"] for v in timing["experiments"].values())

    r = runner.invoke(app, args)  # resumes: nothing computed, wall time unchanged
    assert r.exit_code == 0 and "demo: 6 runs, 0 computed, 6 reused" in r.output, r.output
    timing = json.loads((out / "reproduce.json").read_text())
    assert {k: v["wall_s"] for k, v in timing["experiments"].items()} == wall
    assert (out / "REPORT.md").read_text().split("Last run")[1].split("\n", 1)[1] == \
        report.split("Last run")[1].split("\n", 1)[1]  # same content below the dates


@pytest.mark.parametrize("args,message", [
    (["--experiments", "e9"], "Unknown experiment 'e9'"),
    (["--experiments", ","], "--experiments is empty"),
    (["--profile", "huge"], "Unknown profile 'huge'"),
    (["--executor", "local", "--workers", "2"], "--workers needs --executor pool"),
    (["--seeds", "0"], "seeds"),
])
def test_bad_input_is_one_line(tmp_path, args, message, runner):
    r = runner.invoke(app, ["reproduce", "--out", str(tmp_path / "x"), *args])
    assert r.exit_code != 0 and message in r.output, r.output
    assert not (tmp_path / "x" / "REPORT.md").exists()
