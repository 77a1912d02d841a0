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


def test_the_summary_leads_with_one_line_per_claim(tmp_path):
    """REPORT.md opens with the verdicts (verdict, criterion alone, direction, main caveat,
    held-out accuracy), then the claims' details, the preconditions, the figures and the wall
    times; REPORT.html holds the same claims and embeds the figures."""
    import json

    from transforms2d.study.common import claim
    from transforms2d.study.judging import Basis
    from transforms2d.study.preconditions import Check
    from transforms2d.study.reproduce import write_summary

    unmet = Check("fit", "fit >= 0.95", "lowest fit 0.80", False)
    met = Check("seeds", ">= 5 seeds", "5 seed(s)", True)
    claims = [claim("C1", "a", "x > 0", "pass", "0.3", "0.1",
                    basis=Basis([met], held_out="lowest validation 0.93")),
              claim("C2", "b", "y > 0", "fail", "-0.2", "0.1", basis=Basis([met, unmet])),
              claim("C3", "c", "z > 0", "inconclusive", "0.0", "0.1", basis=Basis([met])),
              claim("C4", "d", "w <= 0.05", "fail", "0.07", "0.02", bound_failed=True)]
    (tmp_path / "e1" / "figures").mkdir(parents=True)
    (tmp_path / "e1" / "figures" / "e1_transfer.png").write_bytes(b"png")
    (tmp_path / "e1" / "claims.json").write_text(json.dumps({"claims": claims}))
    md = summary_markdown(tmp_path, ["e1"])
    heads = [ln for ln in md.splitlines() if ln.startswith("## ")]
    assert heads == ["## Verdicts", "## Claims", "## Preconditions", "## Figures",
                     "## Wall time", "## e1"]
    lines: dict[str, str] = {}  # the first table naming each claim: the verdicts
    for ln in md.splitlines():
        if ln.startswith("| C"):
            lines.setdefault(ln.split(" | ")[0], ln)
    assert lines["| C1 (e1)"] == ("| C1 (e1) | **pass** | pass | agrees | none | lowest "
                                  "validation 0.93 |")
    assert lines["| C2 (e1)"] == ("| C2 (e1) | **not a fair test** | fail | opposite | "
                                  "fit: lowest fit 0.80 | - |")
    assert "| **inconclusive** | inconclusive | unclear (interval holds the threshold) |" in \
        lines["| C3 (e1)"]
    assert "| **fail** | fail | margin exceeded, same direction |" in lines["| C4 (e1)"]
    assert "| seeds | C1 (e1), C2 (e1), C3 (e1) | >= 5 seeds | 5 seed(s) | yes |" in md
    write_summary(tmp_path, ["e1"])
    page = (tmp_path / "REPORT.html").read_text()
    assert page.index("<h2>Claims</h2>") < page.index("<h2>Preconditions</h2>") < page.index(
        "<h2>Figures</h2>")
    assert "e1: e1_transfer" in page and "data:image/png;base64," in page


def test_claims_json_gathers_every_experiments_claims(tmp_path):
    """OUT/claims.json: each experiment's claims.json, in order, every claim tagged with its
    experiment, beside the profile and the seed list that reproduce.json records."""
    import json

    from transforms2d.study.common import claim
    from transforms2d.study.reproduce import write_summary

    for name, ids in (("e2", ["C6", "C6α"]), ("e4", ["C8"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "claims.json").write_text(json.dumps(
            {"claims": [claim(i, "t", "x > 0", "pass", "0.3", "0.1") for i in ids]}))
    (tmp_path / "reproduce.json").write_text(json.dumps(
        {"settings": {"profile": "cpu", "seeds": 5, "seed_list": [5, 6, 7, 8, 9]}}))
    write_summary(tmp_path, ["e4", "e2", "e3"])
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert doc["profile"] == "cpu" and doc["seeds"] == [5, 6, 7, 8, 9]
    assert [(c["experiment"], c["id"]) for c in doc["claims"]] == [
        ("e4", "C8"), ("e2", "C6"), ("e2", "C6α")]
