"""Pack the state of an unfinished reproduction to resume it elsewhere (docs/results-cpu/).

Keeps every finished run's records (spec, result, probes, provenance, log), the pretraining
checkpoint of unfinished runs (their resume point; finished runs need none), and each
experiment's experiment.json plus reproduce.json; leaves out leases, temporary files and
quarantined artifacts.

    python tools/pack_state.py results-cpu/results docs/results-cpu/state-YYYY-MM-DD.tar.gz
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

SKIP = ("lease.json", "lease.json.takeover")


def wanted(path: Path) -> bool:
    if path.name in SKIP or path.name.startswith(".") or "quarantine" in path.parts:
        return False
    run = path.parent if path.parent.name != "probes" else path.parent.parent
    done = (run / "result.json").is_file()
    return not (path.name == "pretrain.pt" and done)


def main(src: str, dst: str) -> None:
    root = Path(src)
    files = sorted(p for p in root.rglob("*") if p.is_file() and wanted(p))
    with tarfile.open(dst, "w:gz") as tar:
        for p in files:
            tar.add(p, arcname=str(Path(root.name) / p.relative_to(root)))
    print(f"packed {len(files)} files from {root} into {dst} "
          f"({Path(dst).stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
