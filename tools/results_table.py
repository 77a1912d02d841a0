"""The README's side-by-side results table from two or more ``t2d reproduce`` folders.

    python tools/results_table.py docs/results-quick docs/results-cpu

prints one Markdown row per claim: the claim, each folder's verdict (with its unmet
preconditions when it is "not a fair test"), the last folder's numbers and the authors'; then
one row per folder with its date, machine and wall time from ``reproduce.json``. It reads the
files ``t2d reproduce`` wrote (``e*/claims.json``, ``reproduce.json``) and computes nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def claims(folder: Path) -> dict[str, dict]:
    """``{claim id: claim dict}`` over the ``claims.json`` of the experiments that
    ``reproduce.json`` names (every ``*/claims.json`` without one), so that a report kept
    beside them for the record (e.g. ``e3-cap50/``) is not read as the current one."""
    out: dict[str, dict] = {}
    record = folder / "reproduce.json"
    names = sorted(json.loads(record.read_text())["experiments"]) if record.is_file() else None
    paths = (sorted(folder.glob("*/claims.json")) if names is None
             else [folder / n / "claims.json" for n in names])
    for path in (p for p in paths if p.is_file()):
        for claim in json.loads(path.read_text())["claims"]:
            out[claim["id"]] = claim
    return out


def verdict_cell(claim: dict | None) -> str:
    """The verdict in bold, and for "not a fair test" the names of the unmet preconditions."""
    if claim is None:
        return "-"
    cell = f"**{claim['verdict']}**"
    unmet = [p["name"] for p in claim.get("preconditions") or [] if not p["met"]]
    if claim["verdict"] == "not a fair test" and unmet:
        cell += " (" + ", ".join(unmet) + ")"
    return cell


def claim_order(cid: str) -> tuple:
    """C1 < C2 < ... < C6 < C6α < C6β < C7: number first, then suffix."""
    digits = "".join(ch for ch in cid[1:] if ch.isdigit())
    return (int(digits or 0), cid)


def claims_table(folders: list[Path]) -> str:
    per_folder = [claims(f) for f in folders]
    ids = sorted({cid for c in per_folder for cid in c}, key=claim_order)
    head = ["claim"] + [f"{f.name} verdict" for f in folders]
    head += [f"ours ({folders[-1].name})", "authors (paper)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cid in ids:
        last = per_folder[-1].get(cid) or next(c[cid] for c in per_folder if cid in c)
        cells = [f"{cid} {last['claim']}"] + [verdict_cell(c.get(cid)) for c in per_folder]
        cells += [per_folder[-1][cid]["ours"] if cid in per_folder[-1] else "-",
                  last["authors"]]
        rows.append("| " + " | ".join(str(x).replace("|", "/") for x in cells) + " |")
    return "\n".join(rows)


def runs_table(folders: list[Path]) -> str:
    rows = ["| folder | profile, seeds | started | machine | wall time (computing) |",
            "|---|---|---|---|---|"]
    for f in folders:
        doc = json.loads((f / "reproduce.json").read_text())
        m, s = doc.get("machine", {}), doc.get("settings", {})
        parts = [f"{name} {e['wall_s'] / 60:.1f} min ({e.get('runs_done')}/{e.get('runs_total')})"
                 for name, e in sorted(doc.get("experiments", {}).items())]
        total = sum(e["wall_s"] for e in doc.get("experiments", {}).values()) / 60
        machine = (f"{m.get('cpus')}-core {m.get('cpu')}, GPU {m.get('gpu') or 'none'}, "
                   f"torch {m.get('torch')}, {s.get('executor')} × {s.get('workers')}")
        rows.append(f"| {f} | {s.get('profile')}, {s.get('seeds')} | "
                    f"{doc.get('last_started', '?')} | {machine} | "
                    f"**{total:.1f} min**: " + ", ".join(parts) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    print(claims_table(args.folders))
    print()
    print(runs_table(args.folders))


if __name__ == "__main__":
    main()
