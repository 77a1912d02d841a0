"""Training throughput: samples/s, achieved FLOP/s against this machine's fp32 matmul rate,
and the share of epoch time spent rendering data — all measured in one run.

FLOPs per step are counted with ``torch.utils.flop_counter.FlopCounterMode`` (forward and
backward of convolutions and matmuls); the matmul rate is a 2048² fp32 matmul timed here.

    python benchmarks/bench_train.py [--models resnet18,convnet_s] [--steps 6]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from bench_generator import machine  # noqa: E402

from transforms2d import Transforms2D  # noqa: E402
from transforms2d.models import create_model, model_info  # noqa: E402


def matmul_rate(n: int = 2048, reps: int = 10) -> float:
    """Best fp32 FLOP/s of an n×n matmul."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def step_flops(model, x, y) -> int:
    with FlopCounterMode(display=False) as fc:
        F.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return fc.get_total_flops()


def bench(name: str, batch: int, steps: int, warmup: int) -> dict:
    ds = Transforms2D(objects=30, transforms=["rotate", "hue", "blur"], n=batch * (steps + warmup),
                      seed=0)
    torch.manual_seed(0)
    model = create_model(name, num_classes=30).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x0, y0 = ds.render(torch.arange(batch))
    flops = step_flops(model, x0.contiguous(memory_format=torch.channels_last), y0)
    render_s = compute_s = 0.0
    for i, idx in enumerate(torch.arange(len(ds)).split(batch)):
        t = time.perf_counter()
        x, y = ds.render(idx, epoch=1)
        x = x.contiguous(memory_format=torch.channels_last)
        t1 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        if i >= warmup:
            render_s, compute_s = render_s + t1 - t, compute_s + t2 - t1
    return {"samples_s": steps * batch / (render_s + compute_s), "flops_step": flops,
            "achieved": flops * steps / compute_s, "render_frac": render_s / (render_s + compute_s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,convnet_s")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=6, help="timed steps for the paper's models")
    ap.add_argument("--small-steps", type=int, default=30, help="timed steps for small models")
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    rate = matmul_rate()
    print(f"fp32 matmul (2048²): {rate / 1e9:.0f} GFLOP/s; batch {args.batch}, 32 px, "
          f"channels-last, Adam; {args.steps} timed steps (paper models) or {args.small_steps} "
          f"(small models) after {args.warmup} warm-up\n")
    print("| model | samples/s | train GFLOP/sample | achieved GFLOP/s | of matmul rate "
          "| rendering share of epoch time |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        steps = args.steps if model_info(name).paper else args.small_steps
        r = bench(name, args.batch, steps, args.warmup)
        print(f"| {name} | {r['samples_s']:,.0f} | {r['flops_step'] / args.batch / 1e9:.3f} | "
              f"{r['achieved'] / 1e9:.0f} | {100 * r['achieved'] / rate:.0f}% | "
              f"{100 * r['render_frac']:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
