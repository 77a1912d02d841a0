"""Runs computed where the run store is not: in a worker's node-local scratch, their files sent
back as bytes and committed by the process that owns the store.

Used by the ``ray`` executor unless ``shared_store`` (a cluster's nodes need not share a
filesystem). The driver leases the run in its store (:func:`claim_remote`) and sends the spec
with the run's finished stages (``provenance.json``, ``pretrain.pt``, ``probes/*.json``: a
rerun after a failure resumes from them). The worker (:func:`compute_in_scratch`) computes the
run with the same :func:`~.executors.compute` into a run store in its node's scratch folder
(``$T2D_SCRATCH`` in the worker's environment, else ``<tmp>/t2d-scratch/<node id>``), returns
the run's files and removes its scratch copy. The worker never learns the driver's path, so it
cannot write there. The driver (:func:`commit_reply`) checks the files as ``t2d verify`` does
(a bad artifact is quarantined) and commits them with :meth:`~.store.RunStore.commit`:
atomically, ``result.json`` last, the worker's ``log.txt`` lines appended to the stored log;
a failure's ``error.json`` (the worker's traceback) is stored the same way.

The scratch copy is keyed by the run's hash and leased like any run: a task retried on the
same node (its worker process died) resumes from the stages the dead one finished there.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import torch

from ..errors import ConfigError
from ..io import write_bytes
from .executors import claim, compute
from .lease import Lease, stale_s
from .spec import RunSpec, spec_hash
from .store import COMMITTED, RunStore, log
from .verify import artifact_problems, quarantine_problems, result_problems

SCRATCH_ENV = "T2D_SCRATCH"
STAGES = ("provenance.json", "pretrain.pt")  # with probes/*.json: what a resumed run reuses
OUTCOME = ("result.json", "error.json", "log.txt")
Files = dict[str, bytes]


def scratch_root(node: str = "") -> Path:
    """This node's scratch run store: ``$T2D_SCRATCH``, else ``<tmp>/t2d-scratch/<node>``."""
    root = os.environ.get(SCRATCH_ENV)
    return Path(root) if root else Path(tempfile.gettempdir()) / "t2d-scratch" / (
        node[:16] or "local")


def stage_names(run_dir: Path) -> list[str]:
    """The finished stage files in ``run_dir`` (never an interrupted write's ``.*.tmp``)."""
    names = [n for n in STAGES if (run_dir / n).is_file()]
    return names + sorted(f"probes/{p.name}" for p in (run_dir / "probes").glob("*.json")
                          if not p.name.startswith("."))


def pack(run_dir: Path, names) -> Files:
    """``{name: bytes}`` of the files ``names`` that exist in ``run_dir``."""
    return {n: (run_dir / n).read_bytes() for n in names if (run_dir / n).is_file()}


def seed(run_dir: Path, files: Files) -> None:
    """Write the stages ``files`` sent by the driver into the scratch ``run_dir``."""
    for name, data in files.items():
        if not COMMITTED.fullmatch(name):
            raise ConfigError(f"refused to write {name!r}: not a stage file of a run")
        write_bytes(run_dir / name, data)


# -- the worker's side ------------------------------------------------------------------------
def compute_in_scratch(spec_dict: dict, stages: Files, device: str, threads: int,
                       node: str = "") -> dict:
    """Compute a run in this node's scratch (see the module docstring); the outcome of
    :func:`~.executors.compute` with the run's ``files``, and where it ran (``node``, ``host``,
    ``pid``)."""
    torch.set_num_threads(max(1, int(threads)))
    spec = RunSpec.from_dict(spec_dict)
    store = RunStore(scratch_root(node))
    run_dir = store.run_dir(spec)
    out = _compute_when_free(spec, store, device, lambda: seed(run_dir, stages))
    if out.get("reused"):  # finished here by an earlier attempt that died before returning
        out = {"ok": True}
    files = pack(run_dir, [*stage_names(run_dir), *OUTCOME])
    shutil.rmtree(run_dir, ignore_errors=True)  # from now on the driver's store keeps it
    for folder in (store.runs, store.root):  # and the scratch folder itself, once empty
        with contextlib.suppress(OSError):
            folder.rmdir()
    return {**out, "files": files, "node": node, "host": socket.gethostname(),
            "pid": os.getpid()}


def _compute_when_free(spec: RunSpec, store: RunStore, device: str, on_start) -> dict:
    """:func:`compute`, waiting while the scratch copy is leased by another process of this
    node (a killed attempt whose process Ray has not reaped yet) until its lease goes stale."""
    deadline = time.monotonic() + stale_s() + 60
    while True:
        out = compute(spec, store, device, on_start=on_start)
        if out.get("held") is None:
            return out
        if time.monotonic() > deadline:
            return {"ok": False, "message": f"its scratch copy in {store.root} stayed leased "
                                            f"by {out['held']}"}
        time.sleep(1.0)


# -- the driver's side ------------------------------------------------------------------------
def claim_remote(spec: RunSpec, store: RunStore) -> tuple[Lease, Files] | dict:
    """Lease run ``spec`` in the driver's ``store`` and prepare its folder; ``(lease, the
    stored stages to send)``, or the outcome that says why it is not to be computed."""
    lease = claim(spec, store)
    if not isinstance(lease, Lease):
        return lease
    h = spec_hash(spec)
    try:
        run_dir = store.prepare(spec)
        store.clear_failure(h)
        return lease, pack(run_dir, stage_names(run_dir))
    except Exception as exc:  # noqa: BLE001 - recorded; the grid goes on
        out = {"ok": False, "message": store.record_failure(h, exc)["message"]}
        lease.release()
        return out


def commit_reply(store: RunStore, spec: RunSpec, reply: dict, lease: Lease) -> dict:
    """Store what a worker returned for ``spec`` (the caller holds ``lease``); the outcome."""
    h = spec_hash(spec)
    if lease.lost or not lease.owned():
        return {"held": f"the lease on run {h} was taken over; its result is left to the new "
                        f"holder"}
    files = dict(reply.get("files") or {})
    result = files.pop("result.json", None)
    where = (f"computed on Ray node {str(reply.get('node'))[:8]} (host {reply.get('host')}, "
             f"pid {reply.get('pid')})")
    try:
        store.commit(h, files)  # the stages, the worker's log lines, its error.json
        if not reply.get("ok"):
            message = reply.get("message") or "the worker reported a failure"
            if "error.json" not in files:
                store.record_failure(h, RuntimeError(message))
            log(store.run_dir(h), f"{where}: failure committed")
            return {"ok": False, "message": message}
        _check(store, h, result)
        store.commit(h, {"result.json": result})
    except (ConfigError, OSError) as exc:
        return {"ok": False, "message": store.record_failure(h, exc)["message"]}
    log(store.run_dir(h), f"{where}: result committed")  # once per run (tested)
    return {"ok": True}


def _check(store: RunStore, h: str, result: bytes | None) -> None:
    """Raise ConfigError unless ``result`` and the committed stages pass ``t2d verify``'s
    checks; a bad stage file is quarantined (its stage recomputed on the next try)."""
    if result is None:
        raise ConfigError(f"run {h}: its worker returned no result.json")
    try:
        res = json.loads(result)
    except ValueError:
        res = {}
    found = result_problems(store, h, res) + artifact_problems(store, h)
    if found:
        quarantine_problems(store, h, found)
        raise ConfigError(f"the files returned by its worker fail verification: {found[0]}")
