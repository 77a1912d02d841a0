"""Scale of the experiment engine: wall time of one grid of runs with the local executor, the
pool executor (2 spawned one-thread workers) and the Ray executor on 1 and 2 workers (one Ray
task per run, 1 CPU and 1 torch thread each).

Each configuration runs in a fresh Python process into its own fresh output folder, so every
one pays the same imports and first-run warm-up. Two times are reported: the grid (the
executor's ``run``: scheduling and computing, with Ray already started) and the whole process
(imports, Ray start and shutdown included: what ``t2d run`` costs). Results are checked to be
byte-identical between configurations that use the same torch thread count per run.

    python benchmarks/bench_engine_scale.py                        # demo smoke, 3 seeds: 6 runs
    python benchmarks/bench_engine_scale.py --profile quick --seeds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# name -> (executor, Ray workers (CPUs of the local instance), torch threads per run)
CONFIGS = {
    "local-2t": ("local", 0, 2),
    "local-1t": ("local", 0, 1),
    "ray-1w": ("ray", 1, 1),
    "ray-2w": ("ray", 2, 1),
    "pool-2w": ("pool", 2, 1),
}
DESCRIBE = {
    "local-2t": "local executor (1 process, 2 threads)",
    "local-1t": "local executor (1 process, 1 thread)",
    "ray-1w": "ray, 1 worker (1 task at a time)",
    "ray-2w": "ray, 2 workers (2 tasks at once)",
    "pool-2w": "pool, 2 one-thread worker processes",
}


def child(config: str, experiment: str, profile: str, seeds: int, out: Path) -> dict:
    """Compute the grid in this (fresh) process with one configuration; return timings."""
    import torch

    import transforms2d.study  # noqa: F401  (registers the experiments)
    from transforms2d.engine import RunStore, get_executor, get_experiment

    kind, workers, threads = CONFIGS[config]
    specs = get_experiment(experiment).specs(profile, seeds)
    store = RunStore(out)
    started = 0.0
    if kind == "local":
        torch.set_num_threads(threads)
        ex = get_executor("local")
    elif kind == "pool":
        ex = get_executor("pool", workers=workers, threads_per_run=threads)
    else:
        import logging

        import ray

        t0 = time.perf_counter()
        ray.init(address="local", num_cpus=workers, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR)
        started = time.perf_counter() - t0
        ex = get_executor("ray", cpus_per_run=1)
    t0 = time.perf_counter()
    summary = ex.run(specs, store)
    grid = time.perf_counter() - t0
    if kind == "ray":
        import ray
        ray.shutdown()
    return {"grid_s": grid, "ray_start_s": started, "runs": summary.total,
            "computed": len(summary.computed), "failed": len(summary.failed)}


def results(folder: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in (folder / "runs").glob("*/result.json")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="demo")
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        res = child(args.child, args.experiment, args.profile, args.seeds, args.out)
        print("RESULT " + json.dumps(res))
        return

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        sys.exit(f"Unknown config {unknown[0]!r}; valid: {', '.join(CONFIGS)}.")
    rows, folders = {}, {}
    with tempfile.TemporaryDirectory(prefix="t2d-scale-") as tmp:
        for name in configs:
            out = Path(tmp) / name
            cmd = [sys.executable, __file__, "--child", name, "--out", str(out),
                   "--experiment", args.experiment, "--profile", args.profile,
                   "--seeds", str(args.seeds)]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
            if proc.returncode or not line:
                sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
            rows[name] = {**json.loads(line[0][7:]), "process_s": wall}
            folders[name] = results(out)
            print(f"{name}: grid {rows[name]['grid_s']:.1f}s, process {wall:.1f}s",
                  file=sys.stderr)

    base = "ray-1w" if "ray-1w" in rows else configs[0]
    n = next(iter(rows.values()))["runs"]
    print(f"\n{args.experiment} --profile {args.profile} --seeds {args.seeds}: {n} runs, "
          f"{os.cpu_count()} CPU cores\n")
    print("| configuration | grid wall (s) | process wall (s) | grid speed-up vs "
          f"{base} | same bytes as |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        same = [o for o in rows if o != name and folders[o] == folders[name]]
        print(f"| {DESCRIBE[name]} | {r['grid_s']:.1f} | {r['process_s']:.1f} | "
              f"{rows[base]['grid_s'] / r['grid_s']:.2f}x | {', '.join(same) or '-'} |")
    if "ray-1w" in rows and "ray-2w" in rows:
        g = rows["ray-1w"]["grid_s"] / rows["ray-2w"]["grid_s"]
        p = rows["ray-1w"]["process_s"] / rows["ray-2w"]["process_s"]
        print(f"\nray 1 -> 2 workers: grid {g:.2f}x faster, whole process {p:.2f}x faster")
    if "local-2t" in rows and "pool-2w" in rows:
        print(f"pool 2 workers vs local (2 threads): grid "
              f"{rows['local-2t']['grid_s'] / rows['pool-2w']['grid_s']:.2f}x, whole process "
              f"{rows['local-2t']['process_s'] / rows['pool-2w']['process_s']:.2f}x")
    if "local-2t" in rows and "ray-2w" in rows:
        print(f"ray 2 workers vs local (2 threads): grid "
              f"{rows['local-2t']['grid_s'] / rows['ray-2w']['grid_s']:.2f}x, whole process "
              f"{rows['local-2t']['process_s'] / rows['ray-2w']['process_s']:.2f}x")


if __name__ == "__main__":
    main()
