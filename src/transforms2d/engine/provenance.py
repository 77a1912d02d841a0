"""Provenance of a run: which code, libraries, machine and device computed it.

Written once, as ``runs/<hash>/provenance.json``, when a run first starts. It is not part of the
spec (a run done on one machine is reused on another) nor of ``result.json`` (which stays a pure
function of the spec, so a resumed run writes the same bytes as an uninterrupted one).

The code is identified by the git commit of the source tree when the package is imported from a
git checkout (with ``git_dirty`` when its files differ from that commit), and always by
``code_hash``, a SHA-256 over the package's ``.py`` files, which pins it in either case.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import socket
import subprocess
import time
from pathlib import Path

import torch

from .. import __version__
from ..io import write_json

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def code_identity() -> dict:
    """``{"git_commit", "git_dirty", "code_hash"}`` of the imported package (computed once)."""
    return {**_git(PACKAGE_DIR), "code_hash": code_hash(PACKAGE_DIR)}


def code_hash(folder: Path) -> str:
    """First 16 hex digits of the SHA-256 over the relative paths and bytes of the ``.py``
    files under ``folder``, in sorted order."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*.py")):
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _git(folder: Path) -> dict:
    """The commit of the checkout holding ``folder``, if its files are tracked there."""
    none = {"git_commit": None, "git_dirty": None}

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    # an installed copy under site-packages may sit inside some unrelated repository
    if git("ls-files", "--error-unmatch", "__init__.py") is None:
        return none
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    if commit is None:
        return none
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def provenance(device: str = "cpu") -> dict:
    """The provenance record of a run started now in this process on ``device``."""
    dev = torch.device(device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor()
    return {"package": "transforms2d", "version": __version__, **code_identity(),
            "torch": torch.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "hostname": socket.gethostname(),
            "device": device, "device_name": name or dev.type,
            "torch_threads": torch.get_num_threads(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_provenance(run_dir: str | Path, device: str = "cpu") -> Path:
    """Write ``run_dir/provenance.json`` unless it exists (a resumed run keeps the first)."""
    path = Path(run_dir) / "provenance.json"
    if not path.exists():
        write_json(path, provenance(device))
    return path
