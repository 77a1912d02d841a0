"""The probe protocol before and after the restatement (docs/protocol.md, "Restatements"), timed
side by side on one pretrained model in one process.

- ``before``: the ``cpu`` profile's probe until 2026-12-05: Adam on cached features of 1000
  samples x 1 view, 500 epochs at batch 64, lr 1e-3 (accuracy recorded at 20 points for the
  loss-slope convergence rule);
- ``lbfgs 1000x1``: the same data solved to optimality by L-BFGS (the solver alone);
- ``after``: the ``cpu`` profile now: L-BFGS on 10000 samples x 2 views (chosen from
  ``benchmarks/probe_size_curve.py``'s train-vs-test curve).

The model is E1's seed-0 default run of the profile (disjoint family, pretrained as the engine
does, cached in ``--cache``); every probe is fitted on its target task and tested on the same
1000 test samples. Each row: seconds embedding the data (fresh feature cache per row), seconds
fitting the head, probe training and test accuracy (macro) and their gap, and the total time
as a ratio to ``before``. One torch thread, as a pool worker runs.

    python benchmarks/bench_probe_solvers.py [--profile cpu] [--family disjoint]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_generator import machine  # noqa: E402
from probe_size_curve import pretrained  # noqa: E402

#: (row name, probe samples, ProbeConfig fields); ``None`` samples: the profile's own.
VARIANTS = (
    ("before: adam 1000x1, 500 epochs", 1000,
     dict(solver="adam", views=1, epochs=500, batch_size=64)),
    ("lbfgs 1000x1", 1000, dict(solver="lbfgs", views=1)),
    ("after: lbfgs {n}x{views}", None, dict(solver="lbfgs")),
)


def default_cell(profile: str, family: str):
    """E1's seed-0 default run of ``profile`` for ``family`` and its probe target."""
    from transforms2d.study import e1

    for c in e1.cells(e1.SIZES[profile], 1):
        if c.axis == "classes" and c.value == "disjoint" and c.family == family:
            return c.spec, next(p for p in c.spec.probes if p.name == c.probe)
    raise SystemExit(f"no default {family} run in E1's {profile} grid")


def probe_row(net, target, n: int, fields: dict) -> dict:
    """Fit one probe with a fresh feature cache; seconds split into embedding and fitting."""
    from transforms2d.engine.run import build_dataset
    from transforms2d.train import FeatureCache, ProbeConfig, linear_probe

    train = build_dataset({**target.train, "n": n}, "train")
    test = build_dataset(target.test, "test")
    cache = FeatureCache(net)
    t0 = time.perf_counter()
    res = linear_probe(net, train, None, test, ProbeConfig(progress=False, **fields), cache)
    total = time.perf_counter() - t0
    return {"features": cache.seconds, "head": total - cache.seconds, "total": total,
            "train": res.train_acc, "test": res.test_acc}


def main() -> None:
    import torch

    from transforms2d.study import e1

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--family", default="disjoint", choices=("same", "disjoint"))
    ap.add_argument("--cache", type=Path, default=Path("probe-curve-models"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    z = e1.SIZES[args.profile]
    spec, target = default_cell(args.profile, args.family)
    print(f"machine: {machine()}\nE1 {args.profile} default run, {args.family} family, seed 0 "
          f"({spec.model}); one torch thread; test on {target.test['n']} samples\n")
    net, _ = pretrained(spec, args.cache)
    print("| probe | features (s) | head fit (s) | total (s) | train acc | test acc | gap | "
          "time vs before |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for name, n, fields in VARIANTS:
        fields = {"views": z.views, **fields}
        n = n or z.n_probe
        r = probe_row(net, target, n, fields)
        base = base or r["total"]
        print(f"| {name.format(n=n, views=fields['views'])} | {r['features']:.1f} | "
              f"{r['head']:.1f} | {r['total']:.1f} | {r['train']:.3f} | {r['test']:.3f} | "
              f"{r['train'] - r['test']:+.3f} | {r['total'] / base:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
