"""Generator throughput: batched renderer vs a per-sample PIL pipeline, side by side.

For each of the 18 transforms (and ``none``), measures samples/s of
- ours: ``Transforms2D.render`` on batches of ``--batch`` indices (fresh train-epoch parameters
  every batch), with torch using all cores;
- baseline: ``benchmarks/pil_pipeline.py`` (docs/protocol.md §1.1, one sample at a time, the
  authors' approach) in a pool of one process per core, on the same assets already resized to the
  output size (the baseline gets the same asset caching ours has).
Both run in this process's run, on the same cores, one after the other, best of ``--reps``.

    python benchmarks/bench_generator.py [--size 32] [--batch 1024] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import pil_pipeline  # noqa: E402

import transforms2d as t2d  # noqa: E402
from transforms2d.assets import load_assets  # noqa: E402

_POOL_ASSETS: tuple[list[Image.Image], list[Image.Image]] | None = None


def _pil_assets(size: int, n_obj: int):
    pack = load_assets("builtin")
    objs = pack.objects_at(size)[:n_obj].permute(0, 2, 3, 1).numpy()
    bgs = pack.backgrounds_at(size).permute(0, 2, 3, 1).numpy()
    return ([Image.fromarray(o, "RGBA") for o in objs], [Image.fromarray(b, "RGB") for b in bgs])


def _pool_init(size: int, n_obj: int) -> None:
    global _POOL_ASSETS
    torch.set_num_threads(1)
    _POOL_ASSETS = _pil_assets(size, n_obj)


def _pil_chunk(args: tuple[list[str], int, int, int]) -> int:
    transforms, n, size, seed = args
    objs, bgs = _POOL_ASSETS
    rng = np.random.default_rng(seed)
    for _ in range(n):
        o, b = objs[rng.integers(len(objs))], bgs[rng.integers(len(bgs))]
        pil_pipeline.render_sample(o, b, transforms, rng, size)
    return n


def bench_pil(pool, transforms: list[str], n: int, size: int, reps: int, workers: int) -> float:
    chunks = [(transforms, n // workers, size, s) for s in range(workers)]
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        done = sum(pool.map(_pil_chunk, chunks))
        best = min(best, time.perf_counter() - t)
    return done / best


def bench_ours(transforms: list[str], batch: int, size: int, reps: int, device: str) -> float:
    ds = t2d.Transforms2D(objects=30, transforms=transforms, n=batch * (reps + 1), seed=0,
                          image_size=size, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    ds.render(torch.arange(batch), epoch=0)  # warm-up: assets to device, caches
    sync()
    best = float("inf")
    for r in range(reps):
        idx = torch.arange(batch * (r + 1), batch * (r + 2))
        t = time.perf_counter()
        ds.render(idx, epoch=r + 1)
        sync()
        best = min(best, time.perf_counter() - t)
    return batch / best


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--pil-samples", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--transforms", default=",".join(t2d.TRANSFORMS))
    args = ap.parse_args()
    names = [t for t in args.transforms.split(",") if t]
    workers = os.cpu_count() or 1
    print(f"machine: {machine()}")
    print(f"ours: batch {args.batch} on {args.device}; baseline: per-sample PIL, {workers} "
          f"processes; {args.size} px; best of {args.reps}\n")
    print("| transform | ours (samples/s) | per-sample PIL (samples/s) | ratio |")
    print("|---|---:|---:|---:|")
    ratios = []
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_pool_init, initargs=(args.size, 30)) as pool:
        for name in [*names, "none"]:
            ts = [] if name == "none" else [name]
            ours = bench_ours(ts, args.batch, args.size, args.reps, args.device)
            base = bench_pil(pool, ts, args.pil_samples, args.size, args.reps, workers)
            if name != "none":
                ratios.append(ours / base)
            print(f"| {name} | {ours:,.0f} | {base:,.0f} | {ours / base:.1f}× |", flush=True)
    hm = statistics.harmonic_mean(ratios)
    print(f"\nharmonic mean of the ratio over {len(ratios)} transforms: {hm:.1f}× "
          f"(target ≥ 5×); slowest ratio: {min(ratios):.1f}× (target ≥ 1×)")


if __name__ == "__main__":
    main()
