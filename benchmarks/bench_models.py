"""Training throughput of every registered model, NCHW versus channels-last.

One training step = forward, cross-entropy, backward and an Adam step on a batch of random
``--size``-px images (batch norm in train mode). For each model and memory format: ``--warmup``
untimed steps, then ``--reps`` rounds of ``--steps`` timed steps, the two formats alternating,
best round shown (the paper's models, seconds per step on a CPU: 1 warm-up step and one round
of ``--paper-steps``). Prints a markdown table.

    python benchmarks/bench_models.py [--models resnet_s,vit_s] [--batch 256] [--threads 2]

By default the small models and resnet18 are timed (about 2 minutes on a 2-core CPU);
``--models all`` adds the other paper models (several more minutes on a CPU).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from transforms2d._malloc import tune_malloc
from transforms2d.models import create_model, list_models

DEFAULT = "small,resnet18"


def make_step(name: str, batch: int, size: int, channels_last: bool,
              seed: int = 0) -> Callable[[], None]:
    """One full training step of a fresh ``name`` on a fixed random batch, as a closure."""
    torch.manual_seed(seed)
    model = create_model(name, num_classes=10, image_size=size).train()
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def train_rates(name: str, batch: int, size: int, warmup: int, steps: int,
                reps: int) -> tuple[float, float]:
    """Best samples/s over ``reps`` rounds, NCHW and channels-last timed alternately."""
    fns = [make_step(name, batch, size, cl) for cl in (False, True)]
    best = [0.0, 0.0]
    for fn in fns:
        for _ in range(warmup):
            fn()
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            best[i] = max(best[i], batch * steps / (time.perf_counter() - t0))
    return best[0], best[1]


def resolve(spec: str) -> list[str]:
    """``small`` / ``paper`` / ``all`` / comma-separated names (and globs) -> model names."""
    names: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if part == "small":
            found = list_models(paper=False)
        elif part == "paper":
            found = list_models(paper=True)
        elif part == "all":
            found = list_models(paper=False) + list_models(paper=True)
        else:
            found = list_models(part) or [part]  # an unknown name fails in create_model
        names += [n for n in found if n not in names]
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEFAULT, help="small | paper | all | names or globs")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per round")
    ap.add_argument("--reps", type=int, default=3, help="rounds per format; the best is shown")
    ap.add_argument("--paper-steps", type=int, default=2, help="timed steps for paper models")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tuned = tune_malloc()  # as the renderer does in training runs (T2D_MALLOC_TUNING=0: off)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, malloc tuning {'on' if tuned else 'off'}; "
          f"batch {args.batch}, {args.size} px, forward+backward+Adam, samples/s\n")
    print("| model | params | train samples/s NCHW | train samples/s channels-last |")
    print("|---|---|---|---|")
    paper = set(list_models(paper=True))
    for name in resolve(args.models):
        n_params = sum(p.numel() for p in create_model(name, image_size=args.size).parameters())
        is_paper = name in paper
        warmup, steps, reps = (1, args.paper_steps, 1) if is_paper else (
            args.warmup, args.steps, args.reps)
        rates = train_rates(name, args.batch, args.size, warmup, steps, reps)
        print(f"| {name} | {n_params:,} | {rates[0]:,.0f} | {rates[1]:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
