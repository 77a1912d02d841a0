"""The run store: one folder per run, named by the spec's hash.

::

    DIR/experiment.json          which experiment, profile and seeds; the run hashes, in order
    DIR/report.md                written by ``t2d report``
    DIR/runs/<hash>/spec.json    the run's canonical spec
    DIR/runs/<hash>/provenance.json  code version, torch, python, host, device (first start)
    DIR/runs/<hash>/lease.json   the process computing the run: host, pid, heartbeat (.lease)
    DIR/runs/<hash>/pretrain.pt  the pretrained model (the resume point before probing)
    DIR/runs/<hash>/probes/<target>.json   one finished probe each
    DIR/runs/<hash>/result.json  written last: its presence (valid) means "done"
    DIR/runs/<hash>/error.json   the last failure: message and traceback
    DIR/runs/<hash>/attempts.json  attempts that ended with their worker dead (cause, time)
    DIR/runs/<hash>/quarantine/  unreadable artifacts moved aside, each with a .reason file
    DIR/runs/<hash>/log.txt      stage timings, appended

Every file a status depends on is written atomically (temporary file, then rename), so a kill
leaves at most a ``.*.tmp`` file, which is never read and is swept by the next process that
leases the run. Only the holder of a run's lease (:mod:`.lease`) writes into its folder, so
several drivers, on one host or several sharing the folder, compute every run once; a run
computed where the folder is not (a Ray node's scratch) is committed by the driver holding its
lease (:meth:`RunStore.commit`). An artifact that cannot be read (a truncated checkpoint, a
corrupt probe or result file) is moved to ``quarantine/`` with the reason and its stage is
computed again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..io import write_bytes, write_json
from ..validation import seed_record
from .lease import Lease, acquire
from .lease import holder as lease_holder
from .rehearse import check_folder_kind
from .spec import RunSpec, spec_hash

DONE, FAILED, PENDING, RUNNING = "done", "failed", "pending", "running"
STATUSES = (DONE, RUNNING, FAILED, PENDING)  # the order `t2d status` reports them in
RESULT_FORMAT = 2  # 2: probe loss curves, fine-tuning curves, early stopping recorded
OLD_MARKER = "running.json"  # the marker of format 1 stores, before leases: swept
QUARANTINE = "quarantine"
HASH = re.compile(r"[0-9a-f]{16}")  # spec_hash: 16 hex digits
# The files of a run that a worker without the folder returns (RunStore.commit).
COMMITTED = re.compile(r"(result|error|provenance)\.json|pretrain\.pt|log\.txt"
                       r"|probes/[^/\\.][^/\\]*\.json")


def read_json(path: Path) -> Any | None:
    """Parsed JSON of ``path``, or None if it is missing or not valid JSON (e.g. truncated)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class RunStore:
    """Runs under ``root/runs/<hash>/`` plus the experiment record ``root/experiment.json``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"

    # -- runs ---------------------------------------------------------------------------------
    def run_dir(self, spec_or_hash: RunSpec | str) -> Path:
        h = spec_or_hash if isinstance(spec_or_hash, str) else spec_hash(spec_or_hash)
        return self.runs / h

    def status(self, h: str) -> str:
        """``done`` (a valid result.json for this hash), ``running`` (a live lease),
        ``failed`` (error.json) or ``pending``."""
        d = self.runs / h
        if self.result(h) is not None:
            return DONE
        if self.running(h) is not None:
            return RUNNING
        return FAILED if (d / "error.json").exists() else PENDING

    def running(self, h: str) -> dict | None:
        """The live lease of run ``h`` (host, pid, started, heartbeat), else None."""
        return lease_holder(self.runs / h)

    def lease(self, h: str) -> Lease:
        """Lease run ``h`` for this process, or raise :class:`~.lease.RunHeld`."""
        return acquire(self.runs / h)

    def quarantine(self, h: str, path: Path, reason: str) -> Path:
        """Move run ``h``'s unreadable artifact ``path`` aside (see :func:`quarantine`)."""
        return quarantine(self.runs / h, path, reason)

    def quarantined(self, h: str) -> list[dict]:
        """The files moved aside for run ``h``: ``{"file", "reason"}`` each, oldest first."""
        qdir = self.runs / h / QUARANTINE
        if not qdir.is_dir():
            return []
        out = []
        for p in sorted(qdir.iterdir()):
            if p.suffix != ".reason":
                r = p.with_name(p.name + ".reason")
                out.append({"file": str(p), "reason": r.read_text().strip() if r.exists()
                            else "?"})
        return out

    def result(self, h: str) -> dict | None:
        """The stored result of run ``h``, or None unless it is complete and names this run."""
        res = read_json(self.runs / h / "result.json")
        return res if is_result(res, h) else None

    def error(self, h: str) -> dict | None:
        return read_json(self.runs / h / "error.json")

    def load_spec(self, h: str) -> RunSpec:
        """The spec stored for run ``h``, validated; a hand-edited file is a one-line error."""
        path = self.runs / h / "spec.json"
        data = read_json(path)
        if data is None:
            raise ConfigError(f"{path} is missing or not valid JSON; delete {path.parent} "
                              f"to recompute that run.")
        try:
            spec = RunSpec.from_dict(data)
        except ConfigError as e:
            raise ConfigError(f"{path} is invalid: {e}") from None
        if spec_hash(spec) != h:
            raise ConfigError(f"{path} was edited: it describes run {spec_hash(spec)}, not "
                              f"{h}; restore it or delete {path.parent} to recompute.")
        return spec

    def check_spec(self, spec: RunSpec) -> None:
        """Refuse to reuse a run folder whose stored spec.json no longer matches its name."""
        h = spec_hash(spec)
        if (self.runs / h / "spec.json").exists():
            self.load_spec(h)

    def prepare(self, spec: RunSpec) -> Path:
        """Make the run folder ready for (re)computation: spec written, debris swept, an
        unreadable result quarantined. Call it holding the run's lease."""
        d = self.run_dir(spec)
        d.mkdir(parents=True, exist_ok=True)
        sweep_tmp(d)
        h = spec_hash(spec)
        if (d / "result.json").exists() and self.result(h) is None:
            self.quarantine(h, d / "result.json", "result.json is not a complete result of "
                            f"this run (format {RESULT_FORMAT}, spec hash {h})")
        path = d / "spec.json"
        if read_json(path) != spec.to_dict():
            write_json(path, spec.to_dict())
        return d

    def commit(self, h: str, files: Mapping[str, bytes]) -> None:
        """Store files of run ``h`` computed elsewhere (a Ray worker's node-local scratch:
        :mod:`.transfer`), holding its lease: each written atomically, ``log.txt`` appended,
        ``result.json`` last; a result that is not complete (:meth:`result`) is quarantined
        like any stored one (ConfigError). Only the files a run keeps are taken."""
        bad = sorted(name for name in files if not COMMITTED.fullmatch(name))
        if bad:  # never a path outside the run's folder, nor a lease or a spec
            raise ConfigError(f"run {h}: refused to store {bad[0]!r} (not a file of a run)")
        d = self.runs / h
        for name in sorted(files, key=lambda n: n == "result.json"):
            if name == "log.txt":
                with open(d / name, "ab") as f:
                    f.write(files[name])
            else:
                write_bytes(d / name, files[name])
        if "result.json" in files and self.result(h) is None:
            self.quarantine(h, d / "result.json", "the result.json computed elsewhere is not "
                            f"a complete result of this run (format {RESULT_FORMAT}, spec "
                            f"hash {h})")
            raise ConfigError(f"run {h}: the result returned by its worker is not a complete "
                              f"result of this run (quarantined)")

    def record_failure(self, h: str, exc: BaseException) -> dict:
        """Write error.json (message, type, traceback, the pid and host that failed) and a
        line in log.txt. Where the folder cannot be written (disk full, read-only), the
        failure is still returned, its message saying that it could not be recorded."""
        err = {"type": type(exc).__name__, "message": str(exc).splitlines()[0] if str(exc)
               else type(exc).__name__, "traceback": traceback.format_exc(),
               "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "pid": os.getpid(),
               "host": socket.gethostname()}
        try:
            write_json(self.runs / h / "error.json", err)
        except OSError as e:
            err["message"] += f" (not recorded in error.json: {e.strerror or e})"
        log(self.runs / h, f"failed: {err['type']}: {err['message']}")
        return err

    def clear_failure(self, h: str) -> None:
        (self.runs / h / "error.json").unlink(missing_ok=True)

    # -- experiment record --------------------------------------------------------------------
    def experiment(self) -> dict | None:
        return read_json(self.root / "experiment.json")

    def claim(self, experiment: str, profile: str, seeds: int | Sequence[int],
              hashes: list[str],
              overrides: dict | None = None, rehearsal: dict | None = None) -> None:
        """Record which experiment this folder holds (with its size overrides, if any, and the
        settings of a rehearsal: :mod:`.rehearse`); another experiment's folder, or a
        rehearsal's for real runs (and the converse), is refused."""
        rec = self.experiment()
        check_folder_kind(rec, rehearsal is not None, self.root)
        if rec is not None and rec.get("experiment") != experiment:
            raise ConfigError(f"{self.root} holds runs of experiment "
                              f"'{rec.get('experiment')}', not '{experiment}'; pass another --out.")
        if rec is None and (self.root / "experiment.json").exists():
            raise ConfigError(f"{self.root / 'experiment.json'} is not valid JSON; fix or "
                              f"delete it (the runs are kept).")
        if rec is None and self.runs.is_dir() and any(self.runs.iterdir()):
            raise ConfigError(f"{self.root} holds runs but no experiment.json; pass another "
                              f"--out.")
        rec = {"experiment": experiment, "profile": profile, **seed_record(seeds),
               "runs": hashes}
        if overrides:
            rec["overrides"] = {k: list(v) if isinstance(v, tuple) else v
                                for k, v in overrides.items()}
        if rehearsal is not None:
            rec["rehearsal"] = dict(rehearsal)
        write_json(self.root / "experiment.json", rec)

    def hashes(self) -> list[str]:
        """The runs of the last ``t2d run`` in this folder (error if it holds no experiment)."""
        rec = self.experiment()
        if not isinstance(rec, dict) or not isinstance(rec.get("runs"), list):
            raise ConfigError(f"{self.root} holds no experiment (no valid experiment.json); "
                              f"run `t2d run EXPERIMENT --out {self.root}` first.")
        bad = [h for h in rec["runs"] if not (isinstance(h, str) and HASH.fullmatch(h))]
        if bad:  # a hand-edited record must not point outside runs/
            raise ConfigError(f"{self.root / 'experiment.json'} lists {bad[0]!r}, not a run "
                              f"hash; fix or delete it (the runs are kept).")
        return list(rec["runs"])


def is_result(res: Any, h: str) -> bool:
    """Whether ``res`` (parsed JSON) is a result of run ``h`` in this store's format."""
    return (isinstance(res, dict) and res.get("spec_hash") == h
            and res.get("format") == RESULT_FORMAT)


def sweep_tmp(folder: Path) -> int:
    """Delete the debris of killed writers under ``folder`` (call it holding the lease of the
    run it belongs to): ``.*.tmp`` files of interrupted atomic writes and the marker of format-1
    stores."""
    n = 0
    for p in [*folder.rglob(".*.tmp"), *folder.rglob(OLD_MARKER)]:
        p.unlink(missing_ok=True)
        n += 1
    return n


def quarantine(run_dir: Path, path: Path, reason: str) -> Path:
    """Move the unreadable artifact ``path`` to ``run_dir/quarantine/`` (a unique name), with
    the reason in ``<name>.reason`` and a line in log.txt; the caller recomputes its stage."""
    qdir = Path(run_dir) / QUARANTINE
    qdir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    dest, n = qdir / f"{path.name}.{stamp}", 1
    while dest.exists():
        dest, n = qdir / f"{path.name}.{stamp}.{n}", n + 1
    shutil.move(str(path), str(dest))
    dest.with_name(dest.name + ".reason").write_text(reason.rstrip() + "\n")
    log(Path(run_dir), f"quarantined {path.name}: {reason}")
    return dest


def log(run_dir: Path, line: str) -> None:
    """Append ``HH:MM:SS [pid] line`` to the run's log.txt (a log, not a status: not atomic;
    the pid tells which process did what when several shared the folder over time). Never
    raises: a log line is not worth failing a run for."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "log.txt", "a") as f:
            f.write(f"{time.strftime('%H:%M:%S')} [{os.getpid()}] {line}\n")
    except OSError:  # a full disk or read-only folder: the stage's own write reports it
        pass
