"""The ``ray`` executor: each pending run is one Ray task with the CPUs/GPUs it needs.

Pretrain-then-probe dependencies live inside one run (``execute`` does both stages, resuming
whichever is stored), so runs are independent tasks. Done runs are skipped; a failing run
records its ``error.json`` (with the worker's traceback) and the other tasks go on.

Where the runs are computed: by default (``shared_store=False``) the driver leases each run in
its store and sends the task the spec and the run's finished stages; the worker computes the
run in a scratch folder on its own node and returns the run's files through Ray's object
store, which the driver checks and commits (:mod:`.transfer`). No node but the driver's needs
to see ``--out``, and a task never learns its path. With ``shared_store=True``
(``--shared-store``) a task calls :func:`~.executors.compute` on the driver's folder itself,
which must then be on a filesystem every node mounts at the same path.

Lost tasks: a task whose worker process or node died is rerun by Ray (``retries``), on the same
node or another; each run is committed once, by the driver holding its lease. A killed driver
leaves stale leases (taken over at once by a driver on the same host, else after
``T2D_LEASE_STALE_S``); its rerun resumes from the store.

Without an address the executor starts a local Ray instance (``num_cpus`` = all cores by
default) and shuts it down afterwards; ``address`` (``--ray-address``) joins a running cluster
(``ray start --head``), ``"auto"`` the one started on this machine. A Ray instance that the
caller already initialised in this process is used as is and left running.

Threads: each task runs torch with as many threads as CPUs it reserved (``cpus_per_run``,
default 1). Several torch processes each spinning on all cores are many times slower, and the
bytes of a result depend on the thread count (float reductions split differently), so a grid
computed with ``cpus_per_run=1`` equals the local executor's only when that ran one thread too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError
from ..validation import check_int, check_number
from .executors import GridExecutor, emit_outcome, register_executor, run_in_worker
from .lease import Lease
from .run import COMPILE_ENV, compile_requested
from .spec import RunSpec, spec_hash
from .store import DONE, RunStore
from .transfer import claim_remote, commit_reply, compute_in_scratch

INSTALL_HINT = "pip install 'transforms2d[ray]'"
# Joining a cluster: bound each GCS connection attempt and the number of attempts (Ray's
# defaults wait for minutes on an address where something else listens). These settings are
# read when ray is imported, so they only apply if this module imports it first.
CONNECT_ENV = {"RAY_py_gcs_connect_timeout_s": "5", "RAY_gcs_rpc_server_connect_timeout_s": "3"}
WAIT_ENV, CONNECT_ATTEMPTS = "RAY_gcs_server_port_wait_time_s", "2"  # read by ray.init on call


def import_ray(joining: bool = False):
    """The ``ray`` module, or a one-line error saying how to install it."""
    if joining and "ray" not in sys.modules:
        for k, v in CONNECT_ENV.items():
            os.environ.setdefault(k, v)
    try:
        import ray
    except ImportError:
        raise ConfigError(f"The ray executor needs Ray, which is not installed; run "
                          f"`{INSTALL_HINT}`.") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``host:port`` or ``ray://host:port``; None for ``auto``/``local``."""
    if address in ("auto", "local"):
        return None
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"Invalid Ray address '{address}'; use HOST:PORT (e.g. "
                          f"10.0.0.1:6379), ray://HOST:10001 or auto.")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast (one line) when nothing accepts connections at ``address``."""
    hp = _host_port(address)
    if hp is None:
        return
    try:
        socket.create_connection(hp, timeout=timeout).close()
    except OSError as e:
        raise ConfigError(f"Cannot reach the Ray cluster at {address} ({e.strerror or e}); "
                          f"start it with `ray start --head` or fix --ray-address.") from None


def _task_device(device: str) -> str:
    # Ray gives a task its GPU(s) through CUDA_VISIBLE_DEVICES: inside it they are cuda:0...
    return "cuda" if device.startswith("cuda") else device


def check_gpu_share(gpus: float) -> float:
    """A run's GPU share as Ray takes it: a fraction in (0, 1] (several runs share a GPU:
    ``0.25`` runs four at once on each), or a whole number of GPUs."""
    check_number("gpus_per_run", gpus, 0.0, low_open=True)
    if gpus > 1 and float(gpus) != int(gpus):
        raise ConfigError(f"gpus_per_run must be a fraction in (0, 1] or a whole number of "
                          f"GPUs (Ray's rule). Got {gpus:g} instead.")
    return gpus


def _runtime_env() -> dict:
    """Execution settings that reach the workers through their environment (``--compile``):
    a cluster's workers do not inherit this process's."""
    return {"runtime_env": {"env_vars": {COMPILE_ENV: "1"}}} if compile_requested() else {}


def run_task(spec_dict: dict, root: str, device: str, threads: int) -> dict:
    """Body of one Ray task on a shared store (see :func:`~.executors.run_in_worker`)."""
    return run_in_worker(spec_dict, root, _task_device(device), threads)


def run_task_in_scratch(spec_dict: dict, stages: dict, device: str, threads: int) -> dict:
    """Body of one Ray task without a shared store: the run computed in this node's scratch,
    its files returned (:func:`~.transfer.compute_in_scratch`)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    return compute_in_scratch(spec_dict, stages, _task_device(device), threads, node)


class RayExecutor(GridExecutor):
    """Runs the pending runs of a grid as Ray tasks (see the module docstring).

    ``device``: cpu, cuda or cuda:N (any cuda asks each task for ``gpus_per_run`` GPUs).
    ``address``: cluster to join (None: start a local instance, or use ``RAY_ADDRESS``).
    ``num_cpus``/``num_gpus``: size of a locally started instance (default: what Ray detects).
    ``cpus_per_run``: CPUs reserved per task, and its torch threads.
    ``retries``: how often Ray reruns a task whose worker process died (a node lost, a kill).
    Exceptions of the run are not retried.
    ``shared_store``: tasks write into the driver's folder (on a filesystem all nodes share)
    instead of returning each run's files to the driver.
    """

    def __init__(self, device: str = "cpu", progress: bool = False, address: str | None = None,
                 num_cpus: int | None = None, num_gpus: int | None = None,
                 cpus_per_run: float = 1, gpus_per_run: float = 1, retries: int = 2,
                 shared_store: bool = False) -> None:
        try:
            kind = torch.device(device).type if isinstance(device, str) else None
        except RuntimeError:
            kind = None
        if kind not in ("cpu", "cuda"):
            raise ConfigError(f"Unknown device '{device}' for the ray executor; use cpu, cuda "
                              f"or cuda:N.")
        check_number("cpus_per_run", cpus_per_run, 0.0, low_open=True)
        check_gpu_share(gpus_per_run)
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        if self.address is not None:
            _host_port(self.address)  # a malformed address is refused before anything runs
        self.device, self.progress = device, progress
        self.num_cpus, self.num_gpus = num_cpus, num_gpus
        self.cpus_per_run, self.retries = cpus_per_run, check_int("retries", retries, 0)
        self.gpus_per_run = gpus_per_run if device.startswith("cuda") else 0
        self.shared_store = bool(shared_store)
        self.ray = import_ray(joining=self.address is not None)
        self._owned = False  # True when connect() initialised Ray (then close() shuts it down)
        self._remotes: dict = {}

    # -- connection -----------------------------------------------------------------------------
    def connect(self) -> None:
        """Start or join Ray (idempotent); check the cluster can run one task of this grid."""
        ray = self.ray
        if not ray.is_initialized():
            if self.address is None:
                cpus = self.num_cpus if self.num_cpus is not None else os.cpu_count() or 1
                ray.init(address="local", num_cpus=cpus, num_gpus=self.num_gpus,
                         include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)  # ours: no token-auth notice
            else:
                self._join()
            self._owned = True
        res = ray.cluster_resources()
        if res.get("CPU", 0) < self.cpus_per_run:
            self.close()
            raise ConfigError(f"The Ray cluster has {res.get('CPU', 0):g} CPUs; a run asks for "
                              f"{self.cpus_per_run:g}.")
        if res.get("GPU", 0) < self.gpus_per_run:
            self.close()
            raise ConfigError(f"--device {self.device} asks for {self.gpus_per_run:g} GPU per "
                              f"run, but the Ray cluster has {res.get('GPU', 0):g} GPUs; add GPU "
                              f"nodes or use --device cpu.")

    def _join(self) -> None:
        address = self.address
        check_reachable(address)
        old = os.environ.get(WAIT_ENV)
        os.environ[WAIT_ENV] = CONNECT_ATTEMPTS
        try:
            self.ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, TimeoutError, ValueError) as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(f"Cannot join the Ray cluster at {address}: {msg}; check "
                              f"`ray status` on its head node and --ray-address.") from None
        finally:
            if old is None:
                os.environ.pop(WAIT_ENV, None)
            else:
                os.environ[WAIT_ENV] = old

    def close(self) -> None:
        """Shut down (or disconnect from) the Ray instance that :meth:`connect` initialised."""
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()
        self._owned = False

    # -- running ----------------------------------------------------------------------------
    def _compute(self, todo, store: RunStore, total: int, emit, on_progress) -> dict[str, dict]:
        """Outcomes of ``todo``, one Ray task each (``on_progress`` is not called)."""
        try:
            self.connect()
            return self._submit_and_wait(todo, store, total, emit)
        finally:
            self.close()

    def _submit_and_wait(self, todo, store: RunStore, total: int, emit) -> dict[str, dict]:
        """Submit one task per run; wait for all. Returns hash -> outcome."""
        ray = self.ray
        waiting: dict[Any, tuple[int, RunSpec, Lease | None]] = {}
        outcomes: dict[str, dict] = {}
        try:
            for i, spec in todo:
                h = spec_hash(spec)
                sent = self._submit(spec, store)
                if isinstance(sent, dict):  # not sent: done meanwhile, held, or unwritable
                    outcomes[h] = sent
                    emit_outcome(emit, sent, h, i, total)
                    continue
                waiting[sent[0]] = (i, spec, sent[1])
                emit("start", h, i, total)
            while waiting:
                for ref in self._wait(waiting):
                    i, spec, lease = waiting.pop(ref)
                    h = spec_hash(spec)
                    outcomes[h] = self._outcome(ref, spec, store, lease)
                    emit_outcome(emit, outcomes[h], h, i, total)
        finally:
            for ref, (_, _, lease) in waiting.items():  # interrupted (e.g. Ctrl-C)
                with contextlib.suppress(Exception):  # the cluster may be gone
                    ray.cancel(ref, force=True)
                if lease is not None:
                    lease.release()
        return outcomes

    def _wait(self, waiting: dict) -> list:
        """The refs of ``waiting`` that are ready (at least one); the loss of the cluster
        (its head node: this driver's connection) is a one-line error."""
        try:
            return self.ray.wait(list(waiting), num_returns=1)[0]
        except OSError as e:
            raise ConfigError(f"Lost the Ray cluster ({e.strerror or e}) with {len(waiting)} "
                              f"run(s) in flight; the runs committed so far are kept: restart "
                              f"the cluster and rerun the command to resume.") from None

    def _submit(self, spec: RunSpec, store: RunStore) -> tuple[Any, Lease | None] | dict:
        """Send the task of ``spec``: ``(its object ref, the driver's lease on the run)``, or
        the outcome that says why it was not sent."""
        opts = dict(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                    max_retries=self.retries, retry_exceptions=False,
                    name=f"t2d-run-{spec_hash(spec)}", **_runtime_env())
        threads = max(1, int(self.cpus_per_run))
        if self.shared_store:  # the worker leases and writes the run in the shared folder
            root = str(Path(store.root).resolve())
            task = self._remote(run_task).options(**opts)
            return task.remote(spec.to_dict(), root, self.device, threads), None
        claimed = claim_remote(spec, store)
        if isinstance(claimed, dict):
            return claimed
        lease, stages = claimed
        try:
            task = self._remote(run_task_in_scratch).options(**opts)
            return task.remote(spec.to_dict(), stages, self.device, threads), lease
        except BaseException:  # not sent (e.g. the cluster is gone): give the run back
            lease.release()
            raise

    def _remote(self, fn):
        """``ray.remote(fn)``, made once per executor (each one is exported to the cluster)."""
        if fn not in self._remotes:
            self._remotes[fn] = self.ray.remote(fn)
        return self._remotes[fn]

    def _outcome(self, ref, spec: RunSpec, store: RunStore, lease: Lease | None) -> dict:
        """The outcome of a finished task; without a shared store, its files committed."""
        h = spec_hash(spec)
        with lease if lease is not None else contextlib.nullcontext():
            try:
                out = self.ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - the worker died (retries spent), not the run
                return {"ok": False, "message": store.record_failure(h, exc)["message"]}
            if lease is not None:
                return commit_reply(store, spec, out, lease)
        if out.get("ok") and store.status(h) != DONE:
            exc = ConfigError(f"run {h} finished on a Ray worker but its result.json is not "
                              f"in {store.root}; with --shared-store, --out must be on a "
                              f"filesystem shared by all Ray nodes (or drop --shared-store).")
            return {"ok": False, "message": store.record_failure(h, exc)["message"]}
        return out


register_executor("ray", RayExecutor)
