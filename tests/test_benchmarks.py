"""The benchmark scripts run end to end (tiny settings; the numbers themselves are not checked:
timings belong to benchmarks, not tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_generator_prints_a_table_with_ratios():
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_generator.py"), "--batch", "32",
         "--pil-samples", "16", "--reps", "1", "--transforms", "rotate,noise"],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    rows = [line for line in res.stdout.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["rotate", "noise", "none"]
    assert "harmonic mean of the ratio over 2 transforms" in res.stdout
