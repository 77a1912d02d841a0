"""``t2d verify``: re-check every finished run of an experiment folder, computing nothing.

For each run listed in ``experiment.json`` that is done: ``spec.json`` is valid and hashes to
the folder's name, ``result.json`` names this run and holds every probe and invariance target
of its spec and the pretraining history, each stored probe file is readable, and
``pretrain.pt`` (where kept) loads. A problem is one line naming the run, the file and what is
wrong; with ``quarantine=True`` the offending artifact is moved to ``quarantine/`` (so the
next ``t2d run`` recomputes that stage, or the whole run when it is the result).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..train import load_checkpoint
from .store import DONE, RESULT_FORMAT, RunStore, is_result, read_json


@dataclass
class Problem:
    """One finding: the run, the file (relative to the run folder) and what is wrong."""

    run: str
    file: str
    what: str

    def __str__(self) -> str:
        return f"{self.run}/{self.file}: {self.what}"


@dataclass
class Verification:
    """What :func:`verify` checked: runs by status, the problems, the files moved aside."""

    runs: int = 0
    done: int = 0
    problems: list[Problem] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def result_problems(store: RunStore, h: str, res: dict | None = None) -> list[Problem]:
    """What is wrong with the result of the done run ``h`` (empty if nothing); ``res``: a
    result not stored yet (one returned by a worker: :mod:`.transfer`), checked the same."""
    try:
        spec = store.load_spec(h)
    except ConfigError as e:
        return [Problem(h, "spec.json", str(e))]
    res = store.result(h) if res is None else res
    if not is_result(res, h):
        return [Problem(h, "result.json", f"not a complete result of this run (format "
                                          f"{RESULT_FORMAT}, spec hash {h})")]
    out = []
    missing = [t.name for t in spec.probes if t.name not in res.get("probes", {})]
    missing += [t.name for t in spec.invariance if t.name not in res.get("invariance", {})]
    if missing:
        out.append(Problem(h, "result.json", "lacks the targets " + ", ".join(missing)))
    if res.get("spec") != spec.to_dict():
        out.append(Problem(h, "result.json", "its spec differs from spec.json"))
    if not isinstance(res.get("pretrain", {}).get("history"), list):
        out.append(Problem(h, "result.json", "has no pretraining history"))
    return out


def artifact_problems(store: RunStore, h: str) -> list[Problem]:
    """Unreadable stage files of run ``h``: probe JSON files and ``pretrain.pt``."""
    d, out = store.run_dir(h), []
    for path in sorted((d / "probes").glob("*.json")):
        stored = read_json(path)
        if not (isinstance(stored, dict) and stored.get("spec_hash") == h and "probe" in stored):
            out.append(Problem(h, f"probes/{path.name}", "not a finished probe of this run"))
    ckpt = d / "pretrain.pt"
    if ckpt.exists():
        try:
            load_checkpoint(ckpt)
        except ConfigError as e:
            out.append(Problem(h, "pretrain.pt", str(e)))
    return out


def verify(store: RunStore, quarantine: bool = False) -> Verification:
    """Check every done run of ``store`` (see the module docstring)."""
    hashes = store.hashes()
    report = Verification(runs=len(hashes))
    for h in hashes:
        if store.status(h) != DONE:
            continue
        report.done += 1
        found = result_problems(store, h) + artifact_problems(store, h)
        report.problems += found
        if quarantine:
            report.quarantined += quarantine_problems(store, h, found)
    return report


def quarantine_problems(store: RunStore, h: str, found: list[Problem]) -> list[str]:
    """Move the files of ``found`` aside (never ``spec.json``: it names the run); their new
    paths."""
    moved = []
    for p in found:
        path = store.run_dir(h) / p.file
        if p.file != "spec.json" and path.exists():
            moved.append(str(store.quarantine(h, path, p.what)))
    return moved
