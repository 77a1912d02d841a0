"""Validation accuracy of E2's translated-placement models against pretraining samples: the
curve ``n_translated`` of the ``cpu`` profile was chosen from (docs/cpu-profile.md).

Pretrains seed 0's translated C+O/C and C+O/O models of a profile's grid at each ``n`` (one
thread) and prints the epochs run, the final row and the best validation accuracy.

    python benchmarks/e2_translated_curve.py --profile cpu --n 6000,12000,24000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    import torch

    from transforms2d.engine.run import pretrain
    from transforms2d.study import e2

    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--n", default="6000,12000,24000")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cells = [c for c in e2.cells(e2.SIZES[args.profile], 1) if c.axis == "tasks"
             and c.variant == "translated" and c.value in ("C+O/C", "C+O/O")]
    with tempfile.TemporaryDirectory() as tmp:
        for n in map(int, args.n.split(",")):
            for c in cells:
                spec = c.spec.replace(source={**c.spec.source, "n": n})
                t0 = time.perf_counter()
                res = pretrain(spec, Path(tmp) / "model.pt")
                final = {k: round(v, 3) for k, v in res.final.items() if isinstance(v, float)}
                best = max(r["val_acc"] for r in res.history)
                print(c.value, n, "epochs", len(res.history), "final", final, "best val",
                      round(best, 3), f"{time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
