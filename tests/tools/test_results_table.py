"""``tools/results_table.py`` on folders laid out as ``t2d reproduce`` writes them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("results_table", ROOT / "tools/results_table.py")
results_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(results_table)


def claim(cid: str, verdict: str, ours: str, unmet: tuple[str, ...] = ()) -> dict:
    pre = [{"name": n, "met": False, "observed": "low"} for n in unmet]
    pre += [{"name": "seeds", "met": True}]
    return {"id": cid, "claim": f"claim {cid}", "verdict": verdict, "ours": ours,
            "authors": "a | b", "preconditions": pre}


def folder(root: Path, experiments: dict[str, list[dict]], kept: dict | None = None) -> Path:
    for name, cs in {**experiments, **(kept or {})}.items():
        (root / name).mkdir(parents=True)
        (root / name / "claims.json").write_text(json.dumps({"claims": cs}))
    (root / "reproduce.json").write_text(json.dumps({
        "experiments": {n: {"wall_s": 120.0, "runs_done": 1, "runs_total": 1}
                        for n in experiments},
        "settings": {"profile": root.name, "seeds": 5, "executor": "pool", "workers": 2}}))
    return root


def test_a_kept_report_beside_the_experiments_is_not_read_as_current(tmp_path):
    quick = folder(tmp_path / "quick", {"e3": [claim("C7", "not a fair test", "q",
                                                        ("pretraining",))]})
    cpu = folder(tmp_path / "cpu", {"e3": [claim("C7", "fail", "now")]},
                 kept={"e3-cap50": [claim("C7", "not a fair test", "then")]})
    table = results_table.claims_table([quick, cpu]).splitlines()
    assert table[2] == ("| C7 claim C7 | **not a fair test** (pretraining) | **fail** | now "
                        "| a / b |")
    runs = results_table.runs_table([quick, cpu])
    assert "**2.0 min**: e3 2.0 min (1/1)" in runs and "pool × 2" in runs


def test_a_folder_without_reproduce_json_reads_every_experiment(tmp_path):
    root = tmp_path / "loose"
    for name, cid in (("e1", "C1"), ("e2", "C6")):
        (root / name).mkdir(parents=True)
        (root / name / "claims.json").write_text(
            json.dumps({"claims": [claim(cid, "pass", "x")]}))
    assert sorted(results_table.claims(root)) == ["C1", "C6"]


def test_the_readme_table_is_the_one_the_committed_reproduction_gives():
    """The README's results table is generated: edit the folder or the registry, then run
    ``python tools/results_table.py --readme docs/results-cpu-v2``."""
    readme = (ROOT / "README.md").read_text()
    table = results_table.readme_table(ROOT / "docs/results-cpu-v2")
    assert results_table.with_readme_table(readme, table) == readme
    assert table.count("\n| C") == 10  # every claim of the paper, one row each


def test_a_readme_row_names_its_claim_from_the_registry_in_the_papers_order(tmp_path):
    root = folder(tmp_path / "cpu", {"e3": [claim("C7", "fail", "x")],
                                     "e1": [claim("C1", "not a fair test", "y",
                                                  ("pretraining",))]})
    rows = results_table.readme_table(root).splitlines()[2:]
    assert rows[0].startswith("| C1 matching invariance beats mismatching | **not a fair test** ")
    assert rows[1].startswith("| C7 invariance transfers; others ≈ none | **fail** | fail | "
                              "opposite |")
