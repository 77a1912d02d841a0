"""CIFAR-10 and CIFAR-100 from the standard python-pickle archives.

Where the data comes from, first match wins: the ``root`` argument, ``$T2D_CIFAR_ROOT``,
``$T2D_CACHE/cifar``, ``~/.cache/transforms2d/cifar``. The root may hold the extracted folder
(``cifar-10-batches-py/``, ``cifar-100-python/``), hold the archive (``cifar-10-python.tar.gz``,
``cifar-100-python.tar.gz``; extracted next to it on first use after an MD5 check), or be the
extracted folder itself. With ``download=True`` a missing archive is fetched from the official
URL into the root. Decoded tensors are kept in memory (:func:`clear_cache` drops them); nothing
but the archive and its extracted folder is written to disk.

Our three splits (:func:`split_index`): ``train`` and ``val`` are carved from CIFAR train (val =
the last 10% of each class, in archive order), ``test`` is CIFAR test. They are used by
:class:`~transforms2d.data.TransformedCIFAR` and by the ``cifar10``/``cifar100`` background
packs (:mod:`transforms2d.assets.cifar_backgrounds`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from ..errors import ConfigError, unknown_name
from ..io import atomic_write

SPLITS = ("train", "test")
#: Share of each class's CIFAR training images (the last ones, in archive order) that form our
#: validation split; the rest is our train split, and our test split is CIFAR's test set.
VAL_FRACTION = 0.1


@dataclass(frozen=True)
class _Format:
    title: str
    url: str
    folder: str
    splits: dict[str, tuple[str, ...]]
    meta: str
    names_key: str
    labels_key: str
    num_classes: int

    @property
    def archive(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.splits["train"], *self.splits["test"], self.meta)


FORMATS = {
    "cifar10": _Format("CIFAR-10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                       "cifar-10-batches-py",
                       {"train": tuple(f"data_batch_{i}" for i in range(1, 6)),
                        "test": ("test_batch",)},
                       "batches.meta", "label_names", "labels", 10),
    "cifar100": _Format("CIFAR-100", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                        "cifar-100-python", {"train": ("train",), "test": ("test",)},
                        "meta", "fine_label_names", "fine_labels", 100),
}
#: Expected MD5 of each archive (module level so that tests can substitute their own).
MD5 = {"cifar10": "c58f30108f718f92721af3b95e74349a",
       "cifar100": "eb9058c3a382ffc7106e4002c42a8d85"}


@dataclass(frozen=True)
class CifarData:
    """One split of CIFAR, decoded.

    Attributes:
        images: ``(N, 3, 32, 32)`` uint8 RGB. Shared with the in-memory cache: do not modify
            it in place (clone first).
        labels: ``(N,)`` int64 in ``0..len(class_names)-1``.
        class_names: the name of each label (fine labels for CIFAR-100).
        name: ``"cifar10"`` or ``"cifar100"``.
        split: ``"train"`` or ``"test"``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.labels)


def default_root() -> Path:
    """The root used when ``load_cifar`` gets none (see the module docstring)."""
    env = os.environ.get("T2D_CIFAR_ROOT")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("T2D_CACHE")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache" / "transforms2d"
    return base / "cifar"


def load_cifar(name: str, split: str, root: str | os.PathLike | None = None,
               download: bool = False) -> CifarData:
    """Load one split of CIFAR-10 (``"cifar10"``) or CIFAR-100 (``"cifar100"``).

    Returns images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` int64, N = 50000 (train) or
    10000 (test) for the official archives; the train batches are concatenated in order.
    Raises :class:`ConfigError` (one line) when the data is missing or malformed.
    """
    if name not in FORMATS:
        raise unknown_name("CIFAR dataset", name, FORMATS)
    if split not in SPLITS:
        raise unknown_name("CIFAR split", split, SPLITS)
    base = (Path(root).expanduser() if root is not None else default_root()).resolve()
    if download:
        _locate(name, base, download=True)
    return _load(name, split, str(base))


def cifar_available(name: str, root: str | os.PathLike | None = None) -> bool:
    """Whether :func:`load_cifar` would find ``name`` under ``root`` (default: the discovery
    order of the module docstring). Cheap: looks for the extracted files or the archive, and
    neither extracts, checksums nor decodes anything (a corrupt archive still counts)."""
    if name not in FORMATS:
        raise unknown_name("CIFAR dataset", name, FORMATS)
    fmt = FORMATS[name]
    base = Path(root).expanduser() if root is not None else default_root()
    if base.is_file():
        return base.name == fmt.archive
    folder = base / fmt.folder
    if not folder.is_dir() and base.is_dir() and (
            base.name == fmt.folder or any((base / f).is_file() for f in fmt.files)):
        folder = base  # the extracted folder itself
    if folder.is_dir():
        return all((folder / f).is_file() for f in fmt.files)
    return (base / fmt.archive).is_file()


def clear_cache() -> None:
    """Drop the decoded tensors kept in memory."""
    _load.cache_clear()


def class_subset(data: CifarData, classes: Sequence[int]) -> CifarData:
    """Keep the samples of ``classes`` (original order kept), labels remapped so that
    ``classes[i]`` becomes ``i``; images ``(M, 3, 32, 32)``, labels ``(M,)`` in ``0..k-1``."""
    k = len(data.class_names)
    if len(classes) == 0:
        raise ConfigError(f"Empty class subset for {data.name}; give class indices in 0..{k - 1}.")
    seen: set[int] = set()
    for c in classes:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < k:
            raise ConfigError(f"Class {c!r} is out of range for {data.name} "
                              f"(valid: 0..{k - 1}).")
        if int(c) in seen:
            raise ConfigError(f"Class {int(c)} appears twice in the subset for {data.name}; "
                              f"list each class once.")
        seen.add(int(c))
    lut = torch.full((k,), -1, dtype=torch.int64)
    lut[torch.tensor([int(c) for c in classes])] = torch.arange(len(classes))
    new = lut[data.labels]
    keep = new >= 0
    return CifarData(images=data.images[keep], labels=new[keep],
                     class_names=tuple(data.class_names[int(c)] for c in classes),
                     name=data.name, split=data.split)


def split_index(labels: torch.Tensor, split: str) -> torch.Tensor:
    """Indices ``(M,)`` of our ``split`` (``"train"``, ``"val"`` or ``"test"``) into the CIFAR
    split it is carved from (:func:`source_split`), ascending.

    ``val`` is the last ``count // 10`` images of every class of CIFAR train (archive order:
    500 per class for CIFAR-10, 50 for CIFAR-100), ``train`` the rest of CIFAR train, ``test``
    all of CIFAR test; ``labels`` are the labels of the source split.
    """
    if split not in ("train", "val", "test"):
        raise unknown_name("split", split, ("train", "val", "test"))
    if split == "test":
        return torch.arange(len(labels))
    counts = torch.bincount(labels)
    order = torch.argsort(labels, stable=True)  # grouped by class, archive order inside
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(labels)
    rank[order] = torch.arange(len(labels)) - starts[labels[order]]
    n_val = (counts.double() * VAL_FRACTION).floor().long()
    is_val = rank >= (counts - n_val)[labels]
    return torch.nonzero(is_val if split == "val" else ~is_val).squeeze(1)


def source_split(split: str) -> str:
    """The CIFAR split our ``split`` is carved from: ``"test"`` for test, else ``"train"``."""
    return "test" if split == "test" else "train"


# --------------------------------------------------------------------------- finding the data
def _locate(name: str, base: Path, download: bool) -> Path:
    """The extracted folder of ``name`` under ``base``, extracting or downloading if needed."""
    fmt = FORMATS[name]
    if base.is_file():
        if base.name != fmt.archive:
            raise ConfigError(f"{fmt.title} root {base} is a file; point it at the folder that "
                              f"holds {fmt.folder}/ or {fmt.archive}.")
        base = base.parent
    if (base / fmt.folder).is_dir():
        return base / fmt.folder
    if base.is_dir() and (base.name == fmt.folder or any((base / f).is_file()
                                                         for f in fmt.files)):
        return base  # the extracted folder itself
    archive = base / fmt.archive
    if not archive.is_file() and download:
        _download(fmt.url, archive)
    if archive.is_file():
        _check_md5(name, archive)
        return _extract(fmt, archive)
    raise ConfigError(f"{fmt.title} not found in {base} (looked for {fmt.folder}/ and "
                      f"{fmt.archive}); pass root=<folder>, set T2D_CIFAR_ROOT, or use "
                      f"download=True.")


def _download(url: str, path: Path) -> None:
    """Fetch ``url`` to ``path`` atomically (temporary file, then rename)."""
    def write(tmp: str) -> None:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as f:
            shutil.copyfileobj(response, f, length=1 << 20)
    try:
        atomic_write(path, write)
    except OSError as e:  # URLError, timeouts, refused connections are all OSErrors
        raise ConfigError(f"Could not download {url} ({_reason(e)}); check the "
                          f"network, or fetch it by hand into {path.parent}.") from e


def _check_md5(name: str, archive: Path) -> None:
    expected = MD5.get(name)
    if not expected:
        return
    digest = hashlib.md5(usedforsecurity=False)  # an integrity check, not security
    with open(archive, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != expected:
        raise ConfigError(f"Checksum mismatch for {archive}: expected MD5 {expected}, got {got}; "
                          f"delete the file and download it again.")


def _extract(fmt: _Format, archive: Path) -> Path:
    """Extract ``archive`` into its folder, refusing unsafe members; returns the data folder."""
    target = archive.parent / fmt.folder
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=archive.parent))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = tar.getmembers()  # reads the whole stream: finds truncation early
                for m in members:
                    parts = PurePosixPath(m.name).parts
                    if m.name.startswith(("/", "\\")) or ".." in parts or ":" in m.name:
                        raise ConfigError(f"Archive {archive} has an unsafe member path "
                                          f"'{m.name}'; refusing to extract it.")
                    if not (m.isfile() or m.isdir()):
                        raise ConfigError(f"Archive {archive} has a link or special file "
                                          f"'{m.name}'; refusing to extract it.")
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(tmp, members=members, **extra)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            raise ConfigError(f"Archive {archive} is corrupt or truncated ({_reason(e)}); "
                              f"delete it and download it again.") from e
        if not (tmp / fmt.folder).is_dir():
            found = sorted(p.name for p in tmp.iterdir())
            raise ConfigError(f"Archive {archive} has no top folder {fmt.folder}/ (found: "
                              f"{', '.join(found) or 'nothing'}); it is not the {fmt.title} "
                              f"python archive.")
        try:
            os.replace(tmp / fmt.folder, target)
        except OSError as e:
            if not target.is_dir():  # else another process extracted it first: use theirs
                raise ConfigError(f"Cannot extract {archive} to {target} ({_reason(e)}); "
                                  f"remove what is at {target} and retry.") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- decoding
@lru_cache(maxsize=8)
def _load(name: str, split: str, base: str) -> CifarData:
    fmt = FORMATS[name]
    folder = _locate(name, Path(base), download=False)
    missing = [f for f in fmt.files if not (folder / f).is_file()]
    if missing:
        raise ConfigError(f"{fmt.title} folder {folder} lacks {', '.join(missing)} (expected "
                          f"{', '.join(fmt.files)}); re-extract {fmt.archive} or download again.")
    meta = _read_pickle(folder / fmt.meta, (fmt.names_key,))
    if not isinstance(meta[fmt.names_key], list | tuple):
        raise ConfigError(f"{folder / fmt.meta}: '{fmt.names_key}' is a "
                          f"{type(meta[fmt.names_key]).__name__}, expected a list of "
                          f"{fmt.num_classes} names.")
    names = tuple(_text(n) for n in meta[fmt.names_key])
    if len(names) != fmt.num_classes:
        raise ConfigError(f"{folder / fmt.meta}: '{fmt.names_key}' has {len(names)} names, "
                          f"expected {fmt.num_classes}.")
    images, labels = [], []
    for file in fmt.splits[split]:
        path = folder / file
        batch = _read_pickle(path, ("data", fmt.labels_key))
        data = np.asarray(batch["data"])
        label = np.asarray(batch[fmt.labels_key])
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.dtype != np.uint8:
            raise ConfigError(f"{path}: 'data' is {data.dtype} of shape {data.shape}, expected "
                              f"uint8 of shape (N, 3072).")
        if label.shape != (len(data),) or (len(label) and not np.issubdtype(label.dtype,
                                                                              np.integer)):
            raise ConfigError(f"{path}: '{fmt.labels_key}' has shape {label.shape}, expected "
                              f"{len(data)} integer labels.")
        if len(label) and (label.min() < 0 or label.max() >= fmt.num_classes):
            raise ConfigError(f"{path}: labels outside 0..{fmt.num_classes - 1}.")
        images.append(data.reshape(-1, 3, 32, 32))  # rows are R, G, B planes, each 32x32
        labels.append(label.astype(np.int64))
    return CifarData(images=torch.from_numpy(np.concatenate(images)),
                     labels=torch.from_numpy(np.concatenate(labels)),
                     class_names=names, name=name, split=split)


def _reason(e: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters)."""
    text = str(getattr(e, "reason", None) or e).strip()
    return f"{type(e).__name__}: {(text.splitlines() or ['no detail'])[0][:200]}"


def _text(value: object) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


class _Unpickler(pickle.Unpickler):
    """Unpickles only what CIFAR files hold (dicts, lists, bytes and numpy arrays)."""

    _ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): np.ndarray((0,)).__reduce__()[0],
        ("numpy._core.multiarray", "_reconstruct"): np.ndarray((0,)).__reduce__()[0],
        ("numpy.core.multiarray", "scalar"): np.int64(0).__reduce__()[0],
        ("numpy._core.multiarray", "scalar"): np.int64(0).__reduce__()[0],
        ("_codecs", "encode"): __import__("codecs").encode,
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}") from None


def _read_pickle(path: Path, keys: tuple[str, ...]) -> dict:
    """A CIFAR pickle as a dict with str keys (bytes keys, as in the originals, are decoded)."""
    try:
        with open(path, "rb") as f:
            obj = _Unpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as e:
        raise ConfigError(f"{path} is not a valid CIFAR pickle ({_reason(e)}); re-extract the "
                          f"archive.") from e
    if not isinstance(obj, dict):
        raise ConfigError(f"{path} holds a {type(obj).__name__}, expected a dict; re-extract "
                          f"the archive.")
    obj = {_text(k): v for k, v in obj.items()}
    missing = [k for k in keys if k not in obj]
    if missing:
        raise ConfigError(f"{path} lacks key(s) {', '.join(missing)} (has: "
                          f"{', '.join(sorted(obj))}); is this the right CIFAR file?")
    return obj
