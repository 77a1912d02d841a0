"""Resource faults while writing: a full disk (a small tmpfs), a file-size limit (RLIMIT_FSIZE,
which needs no privileges) and a read-only ``--out``. Each gives one-line errors and exit
status 1, records the failed runs where the folder can still be written, leaves no partial
file, and a rerun once there is room gives the undisturbed results."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.engine import SMOKE, results, t2d

DEMO = ["run", "demo", *SMOKE]


def mount_tmpfs(where: Path, size_kb: int, *options: str) -> None:
    """Mount a tmpfs of ``size_kb`` at ``where``, or skip the test where that is not allowed
    (not root, or no mount capability in this container)."""
    where.mkdir(parents=True, exist_ok=True)
    opts = ",".join([f"size={size_kb}k", *options])
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


@pytest.fixture
def tmpfs(tmp_path):
    """``mount(size_kb, *options) -> folder`` on a fresh tmpfs; unmounted after the test."""
    mounted = []

    def mount(size_kb: int, *options: str) -> Path:
        where = tmp_path / f"fs{len(mounted)}"
        mount_tmpfs(where, size_kb, *options)
        mounted.append(where)
        return where
    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def assert_clean_failure(proc: subprocess.CompletedProcess, out: Path, reason: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert reason in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert all(line.count(reason) <= 2 for line in proc.stderr.splitlines())  # one-line errors
    partial = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name == "lease.json"]
    assert not partial, partial


PAGE = 4096  # tmpfs charges whole pages per file


def footprint(folder: Path) -> int:
    """Bytes ``folder``'s files take on a tmpfs (each file rounded up to whole pages)."""
    return sum(-(-p.stat().st_size // PAGE) * PAGE for p in folder.rglob("*") if p.is_file())


def room_for_one_run(reference: Path) -> int:
    """A tmpfs size in kB with room for the largest reference run's files and less than half
    of another run's checkpoint more: the first run completes, the second cannot. Measured,
    not hard-coded, so what a run writes can grow without breaking the test."""
    runs = sorted((reference / "runs").iterdir())
    checkpoint = min((run / "pretrain.pt").stat().st_size for run in runs)
    margin = checkpoint // 2
    return -(-(max(footprint(run) for run in runs) + margin) // 1024)


def test_a_full_disk_fails_in_one_line_and_a_rerun_with_room_resumes(tmpfs, demo_reference):
    fs = tmpfs(room_for_one_run(demo_reference))
    out = fs / "demo"
    proc = t2d(*DEMO, "--out", str(out))
    assert_clean_failure(proc, out, "No space left on device")
    assert "1 computed" in proc.stdout and "1 failed" in proc.stdout
    subprocess.run(["mount", "-o", "remount,size=4m", str(fs)], check=True)
    proc = t2d(*DEMO, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert results(out) == results(demo_reference)


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_file_size_limit_records_the_failed_runs(tmp_path, demo_reference):
    """Every checkpoint is larger than 20 kB: both runs fail at that write, recorded in
    error.json (small enough to be written), and no partial checkpoint is left."""
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "transforms2d", *DEMO, "--out", str(out)],
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=_limit_file_size(20_000))
    assert_clean_failure(proc, out, "File too large")
    errors = list(out.glob("runs/*/error.json"))
    assert len(errors) == 2 and not list(out.glob("runs/*/pretrain.pt"))
    assert t2d(*DEMO, "--out", str(out)).returncode == 0
    assert results(out) == results(demo_reference)


def test_a_read_only_out_is_one_line_and_writes_nothing(tmpfs):
    fs = tmpfs(100, "ro")
    proc = t2d(*DEMO, "--out", str(fs / "demo"))
    assert_clean_failure(proc, fs, "Read-only file system")
    assert not list(fs.iterdir())
