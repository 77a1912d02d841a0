"""Where the time of ``t2d profile`` goes: one model, every transform, one domain.

Times the whole profile, then, on the same data, rendering alone (both views of every pair)
and embedding alone (the model on pre-rendered batches); the rest is pair scores, CKA and the
bootstrap. Default: the paper's ResNet-18 at 32 px, the 18 transforms × 1,000 pairs on the
``objects`` domain, untrained (timings do not depend on the weights).

    python benchmarks/bench_profile.py [--model resnet18] [--pairs 1000] [--transforms all]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_generator import machine  # noqa: E402

import transforms2d as t2d  # noqa: E402
from transforms2d.models import create_model  # noqa: E402
from transforms2d.profiling import load_model  # noqa: E402
from transforms2d.profiling.api import _transforms  # noqa: E402
from transforms2d.profiling.domains import build_pair  # noqa: E402
from transforms2d.profiling.layers import Representation  # noqa: E402
from transforms2d.profiling.measure import batches  # noqa: E402


def render_only(names, domain, pairs, batch_size, size) -> float:
    t0 = time.perf_counter()
    for t in names:
        ds, twin = build_pair(domain, None, [t], pairs, 0, size, "cpu")
        for idx in batches(pairs, batch_size):
            ds.render(idx)
            twin.render(idx)
    return time.perf_counter() - t0


def embed_only(rep, names, domain, pairs, batch_size, size) -> float:
    """The model on both views of every pair: one transform's batches, embedded once per
    transform (the cost does not depend on which transform made the pixels)."""
    ds, twin = build_pair(domain, None, [names[0]], pairs, 0, size, "cpu")
    views = [(ds.render(i)[0], twin.render(i)[0]) for i in batches(pairs, batch_size)]
    t0 = time.perf_counter()
    for _ in names:
        for x1, x2 in views:
            rep(x1)
            rep(x2)
    return time.perf_counter() - t0


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
    names = _transforms(args.transforms)
    metrics = args.metrics.split(",")
    t0 = time.perf_counter()
    res = t2d.profile({args.model: net}, transforms=names, domains=args.domain,
                      pairs=args.pairs, metrics=metrics, reference=False,
                      batch_size=args.batch_size, resamples=args.resamples,
                      image_size=args.size)
    total = time.perf_counter() - t0
    rep = Representation(load_model(net), torch.zeros(2, 3, args.size, args.size))
    render = render_only(names, args.domain, args.pairs, args.batch_size, args.size)
    embed = embed_only(rep, names, args.domain, args.pairs, args.batch_size, args.size)
    images = 2 * args.pairs * len(names)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    print(f"{args.model} at {args.size} px, {len(names)} transforms x {args.pairs} pairs on "
          f"'{args.domain}' ({images} images), metrics {','.join(metrics)}, "
          f"{args.resamples} bootstrap resamples; {len(res.rows)} rows\n")
    print("| stage | seconds | share of the profile |")
    print("|---|---:|---:|")
    rest = max(0.0, total - render - embed)
    for stage, sec in (("render (both views)", render), ("embed (model forward)", embed),
                       ("scores, CKA, bootstrap, overhead", rest), ("whole profile", total)):
        print(f"| {stage} | {sec:.1f} | {sec / total:.0%} |")
    print(f"\nthroughput: {images / total:.0f} images/s through the whole profile")


if __name__ == "__main__":
    main()
