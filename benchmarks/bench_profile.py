"""Where the time of ``t2d profile`` goes: one model, every transform, one domain.

The profile times itself (``ProfileResult.timings``): rendering both views of every pair,
embedding them with the model, and the metrics (pair scores, CKA, the bootstrap), measured
inside the same run, so the shares are not skewed by another process between two runs.
Default: the paper's ResNet-18 at 32 px, the 18 transforms × 1,000 pairs on the ``objects``
domain, untrained (timings do not depend on the weights), no reference network.

    python benchmarks/bench_profile.py [--model resnet18] [--pairs 1000] [--transforms all]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_generator import machine  # noqa: E402

import transforms2d as t2d  # noqa: E402
from transforms2d.models import create_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--transforms", default="all")
    ap.add_argument("--domain", default="objects")
    ap.add_argument("--batch-size", type=int, default=250)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--metrics", default="l2,cos,cka")
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    torch.manual_seed(0)
    net = create_model(args.model, num_classes=10)
    load = os.getloadavg()[0]
    res = t2d.profile({args.model: net}, transforms=args.transforms, domains=args.domain,
                      pairs=args.pairs, metrics=args.metrics.split(","), reference=False,
                      batch_size=args.batch_size, resamples=args.resamples,
                      image_size=args.size)
    t = res.timings
    images = 2 * args.pairs * len(res.settings["transforms"])
    print(f"machine: {machine()}; load average {load:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end")
    print(f"{args.model} at {args.size} px, {len(res.settings['transforms'])} transforms x "
          f"{args.pairs} pairs on '{args.domain}' ({images} images), metrics {args.metrics}, "
          f"{args.resamples} bootstrap resamples; {len(res.rows)} rows\n")
    print("| stage | seconds | share of the profile |")
    print("|---|---:|---:|")
    other = t["total"] - t.get("render", 0) - t.get("embed", 0) - t.get("metrics", 0)
    for stage, sec in (("render (both views)", t.get("render", 0.0)),
                       ("embed (model forward)", t.get("embed", 0.0)),
                       ("scores, CKA, bootstrap", t.get("metrics", 0.0)),
                       ("setup (model checks, datasets)", other),
                       ("whole profile", t["total"])):
        print(f"| {stage} | {sec:.1f} | {sec / t['total']:.0%} |")
    print(f"\nthroughput: {images / t['total']:.0f} images/s through the whole profile, "
          f"{images / max(t.get('embed', 0), 1e-9):.0f} images/s through the model alone")


if __name__ == "__main__":
    main()
