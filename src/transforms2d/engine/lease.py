"""Leases: at most one process computes a run, across processes and hosts sharing a folder.

``runs/<hash>/lease.json`` names the holder (host, pid, a random token, when it started) and a
heartbeat that a thread of the holder refreshes every ``T2D_LEASE_HEARTBEAT_S`` seconds
(default 30). The file is created with ``O_CREAT | O_EXCL``, so of two processes that try at
once exactly one gets it; the other raises :class:`RunHeld` and goes on with other runs.

A lease is **stale**, and is taken over, when its holder is on this host and its pid is gone,
or when its heartbeat is older than ``T2D_LEASE_STALE_S`` seconds (default 300; hosts are
assumed to agree on the time within that). A crashed worker therefore never blocks a run: on
its own host at once, elsewhere after the timeout. Taking over is itself serialised by a second
``O_EXCL`` file (``lease.json.takeover``): the process holding it re-reads the lease and removes
it only if it is still the stale one it judged (same token), so two contenders cannot both win.

The heartbeat thread notices a lease that was taken away (another token in the file, e.g. after
this process was frozen past the timeout) and marks it ``lost``; the run then does not write
its result (:func:`transforms2d.engine.run.execute` checks before the final write).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

from ..io import write_json

LEASE = "lease.json"
TAKEOVER = "lease.json.takeover"
HEARTBEAT_ENV, STALE_ENV = "T2D_LEASE_HEARTBEAT_S", "T2D_LEASE_STALE_S"
TAKEOVER_STALE_S = 60.0  # a takeover file older than this was left by a crashed contender


def heartbeat_s() -> float:
    return float(os.environ.get(HEARTBEAT_ENV, "30"))


def stale_s() -> float:
    return float(os.environ.get(STALE_ENV, "300"))


class RunHeld(Exception):
    """The run is leased by another live process; ``holder`` is its lease content."""

    def __init__(self, holder: dict) -> None:
        super().__init__(describe(holder))
        self.holder = holder


def describe(holder: Any) -> str:
    """``pid 123 on node7, started 2026-12-03T11:00:00+0000, heartbeat 12s ago``."""
    if not isinstance(holder, dict):
        return "a lease being written"
    age = time.time() - float(holder.get("heartbeat", 0) or 0)
    return (f"pid {holder.get('pid')} on {holder.get('host')}, started "
            f"{holder.get('started')}, heartbeat {age:.0f}s ago")


def read_lease(path: Path) -> dict | None:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: Any) -> bool:
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def is_stale(path: Path, holder: dict | None, now: float | None = None) -> bool:
    """Whether the lease at ``path`` (content ``holder``, None if unreadable) may be taken."""
    now = time.time() if now is None else now
    if holder is None:  # created but not yet written, or corrupt: judge by the file's age
        try:
            return now - path.stat().st_mtime > stale_s()
        except FileNotFoundError:
            return True
    if holder.get("host") == socket.gethostname() and not pid_alive(holder.get("pid")):
        return True
    try:
        return now - float(holder["heartbeat"]) > stale_s()
    except (KeyError, TypeError, ValueError):
        return True


def holder(run_dir: Path) -> dict | None:
    """The live lease of ``run_dir`` (its content), or None if free or stale."""
    path = Path(run_dir) / LEASE
    content = read_lease(path)
    if not path.exists() or is_stale(path, content):
        return None
    return content if content is not None else {"host": "?", "pid": None}


class Lease:
    """A held lease; :meth:`release` (or the context manager) gives it back."""

    def __init__(self, path: Path, content: dict) -> None:
        self.path, self.content, self.lost = path, content, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="t2d-lease", daemon=True)
        self._thread.start()

    @property
    def token(self) -> str:
        return self.content["token"]

    def owned(self) -> bool:
        """Whether the file still names this lease (False once taken over)."""
        current = read_lease(self.path)
        return current is not None and current.get("token") == self.token

    def refresh(self) -> None:
        """Write a new heartbeat, unless the lease was taken away (then mark it lost)."""
        if not self.owned():
            self.lost = True
            return
        content = {**self.content, "heartbeat": time.time()}
        try:
            write_json(self.path, content)
        except OSError:  # a full disk: keep the old heartbeat, try again at the next beat
            return
        self.content = content

    def _beat(self) -> None:
        while not self._stop.wait(heartbeat_s()):
            self.refresh()
            if self.lost:
                return

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.owned():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def acquire(run_dir: str | os.PathLike, attempts: int = 3) -> Lease:
    """Lease ``run_dir`` for this process (taking over a stale lease), or raise
    :class:`RunHeld` naming the live holder."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LEASE
    for _ in range(attempts):
        now = time.time()
        content = {"host": socket.gethostname(), "pid": os.getpid(),
                   "token": secrets.token_hex(8), "heartbeat": now,
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            seen = read_lease(path)
            if not is_stale(path, seen):
                raise RunHeld(seen if seen is not None else {}) from None
            _take_over(run_dir, seen)
            continue
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(content, f, indent=2, sort_keys=True)
                f.write("\n")
        except OSError:  # e.g. a full disk: leave no empty lease behind
            path.unlink(missing_ok=True)
            raise
        return Lease(path, content)
    raise RunHeld(read_lease(path) or {})


def _take_over(run_dir: Path, seen: dict | None) -> None:
    """Remove the stale lease ``seen`` under the takeover lock (no-op if another process
    holds the lock, or the lease changed since it was judged)."""
    lock = run_dir / TAKEOVER
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            if time.time() - lock.stat().st_mtime > TAKEOVER_STALE_S:
                lock.unlink(missing_ok=True)  # left by a contender that crashed mid-takeover
        except FileNotFoundError:
            pass
        time.sleep(0.05)
        return
    os.close(fd)
    try:
        path = run_dir / LEASE
        now_seen = read_lease(path)
        same = (now_seen == seen) if seen is not None else now_seen is None
        if same and is_stale(path, now_seen):
            path.unlink(missing_ok=True)
    finally:
        lock.unlink(missing_ok=True)
