"""Start-up time of light ``t2d`` commands, measured side by side in one run.

Each command runs in a fresh ``python -m transforms2d`` process, ``--repeats`` times; the table
gives the median wall time beside two references timed the same way: a bare interpreter
(``python -c pass``) and ``python -c "import torch"`` (what every command paid when all of
them imported torch up front). ``--compare-src DIR`` also times the same commands from another
source tree (e.g. a checkout of an older commit: ``git worktree add /tmp/old <commit>`` then
``--compare-src /tmp/old/src``), so a before/after ratio comes from one run on one machine.

    python benchmarks/bench_cli.py [--repeats 7] [--compare-src /tmp/old/src]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = (["--help"], ["transforms"], ["assets"], ["experiments"])


def wall(argv: list[str], env: dict[str, str], repeats: int) -> float | None:
    """Median seconds of ``repeats`` runs of ``argv`` (one untimed warm-up for the file cache);
    None if the command fails (e.g. it does not exist in that tree)."""
    if subprocess.run(argv, env=env, capture_output=True).returncode != 0:
        return None
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def env_for(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--compare-src", help="another source tree to time the same commands from")
    args = ap.parse_args()
    py, env = sys.executable, env_for(None)
    bare = wall([py, "-c", "pass"], env, args.repeats) or 0.0
    torch_s = wall([py, "-c", "import torch"], env, args.repeats) or float("nan")
    print(f"python -c pass: {bare:.3f} s; python -c 'import torch': {torch_s:.3f} s "
          f"(median of {args.repeats})\n")
    header = "| command | this tree (s) | vs import torch |"
    sep = "|---|---:|---:|"
    if args.compare_src:
        header += " compared tree (s) | speed-up |"
        sep += "---:|---:|"
    print(header)
    print(sep)
    for cmd in COMMANDS:
        argv = [py, "-m", "transforms2d", *cmd]
        t = wall(argv, env, args.repeats)
        row = f"| t2d {' '.join(cmd)} | {t:.3f} | {t / torch_s:.2f}x |"
        if args.compare_src:
            old = wall(argv, env_for(args.compare_src), args.repeats)
            row += " n/a (no such command) | - |" if old is None else \
                f" {old:.3f} | {old / t:.1f}x |"
        print(row)


if __name__ == "__main__":
    main()
