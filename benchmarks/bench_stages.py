"""Where a run's time goes, per experiment, and what removing the waste saved: side by side.

For each experiment, the seed-0 runs of a profile's grid are computed twice in one process
with one torch thread, into two scratch folders:

- ``before``: pretraining always runs every epoch (no early stop at the accuracy ceiling),
  and every probe renders and embeds its own data (no feature reuse across the probes of a
  model: each probe's test set, and E2's C/C task that serves both placements, again);
- ``after``: the engine as it is: early stop once two epochs reach the profile's
  ``stop_train_acc``, one :class:`~transforms2d.train.FeatureCache` per run.

The seconds per stage come from each run's ``log.txt`` (pretraining; probes, split into
feature extraction and head fitting; invariance). Both variants use the same probe sizes, so
the difference is the waste removed, not a change of protocol.

    python benchmarks/bench_stages.py --profile quick --experiments e1,e2,e3,e4
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

STAGES = ("pretrain", "features", "head", "invariance")


class NoReuse:
    """A FeatureCache that never reuses: every call embeds its data again (the ``before``)."""

    def __init__(self, model, batch_size: int = 1024) -> None:
        from transforms2d.train import FeatureCache

        self._cache = FeatureCache(model, batch_size)
        self.hits, self.seconds = 0, 0.0

    def features(self, ds, epoch: int = 0):
        from transforms2d.train import FeatureCache

        self._cache = FeatureCache(self._cache.model, self._cache.batch_size)
        out = self._cache.features(ds, epoch)
        self.seconds += self._cache.seconds
        return out


def stage_seconds(run_dir: Path) -> dict[str, float]:
    """Seconds per stage from a run's log.txt."""
    text = (run_dir / "log.txt").read_text()
    out = dict.fromkeys(STAGES, 0.0)
    out["pretrain"] = sum(float(x) for x in re.findall(r"pretrain: done in ([0-9.]+)s", text))
    out["invariance"] = sum(float(x) for x in re.findall(r"invariance: done in ([0-9.]+)s",
                                                         text))
    for total, feats in re.findall(r"probe \S+: done in ([0-9.]+)s \(features ([0-9.]+)s", text):
        out["features"] += float(feats)
        out["head"] += float(total) - float(feats)
    return out


def run_variant(specs, root: Path, before: bool) -> tuple[dict[str, float], float]:
    import transforms2d.engine.run as run_mod
    from transforms2d.engine import execute, spec_hash

    saved = run_mod.FeatureCache
    if before:
        run_mod.FeatureCache = NoReuse
    totals, t0 = dict.fromkeys(STAGES, 0.0), time.perf_counter()
    try:
        for spec in specs:
            if before:  # the same run without the early stop
                spec = spec.replace(train={**spec.train, "stop_train_acc": None})
            d = root / spec_hash(spec)
            execute(spec, d)
            for k, v in stage_seconds(d).items():
                totals[k] += v
    finally:
        run_mod.FeatureCache = saved
    return totals, time.perf_counter() - t0


def main() -> None:
    import torch

    import transforms2d.study  # noqa: F401  (registers the experiments)
    from transforms2d.engine import get_experiment, unique

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--experiments", default="e1,e2,e3,e4")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"profile {args.profile}, seed-0 runs, one torch thread; seconds per stage\n")
    print("| experiment | runs | variant | pretrain | features | head fit | invariance | "
          "total | speed-up |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for name in args.experiments.split(","):
        specs = unique(get_experiment(name).specs(args.profile, 1))
        with tempfile.TemporaryDirectory() as tmp:
            rows = {v: run_variant(specs, Path(tmp) / v, v == "before")
                    for v in ("before", "after")}
        base = rows["before"][1]
        for v, (st, wall) in rows.items():
            print(f"| {name} | {len(specs)} | {v} | " + " | ".join(f"{st[k]:.1f}"
                                                             for k in STAGES)
                  + f" | {wall:.1f} | {base / wall:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
