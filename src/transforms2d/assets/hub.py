"""The authors' base images (SI-Score derived) from the Hugging Face hub: the ``hub`` pack.

Needs the optional extra ``pip install 'transforms2d[hub]'`` (Hugging Face ``datasets``) and, on
first use, network access. The source has two configs, ``foregrounds`` and ``backgrounds``, split
``train``, columns ``image`` and ``label`` (docs/protocol.md §1). Objects: the first image of each
label, in dataset order, labels sorted ascending (one prototype per class). Backgrounds: every row,
in dataset order, as the authors' code does (their 867 rows are the 867 backgrounds).

The decoded images are cached on disk as one uncompressed ``.npz`` per source, so later loads
need neither the network nor ``datasets``. Cache root, first match wins: the ``cache_dir``
argument, ``$T2D_CACHE/hub``, ``~/.cache/transforms2d/hub``. The cache is never invalidated:
delete its folder to reload (e.g. after changing a local source directory).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from .base import AssetPack

DEFAULT_SOURCE = "tillspeicher/transforms_2d_base"
CONFIGS = ("foregrounds", "backgrounds")
CACHE_FORMAT = 1
LICENSE = ("Images from the Hugging Face dataset '{source}' (derived from Google's SI-Score; "
           "see the dataset card for licence and attribution).")


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds one sub-folder per hub source."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("T2D_CACHE")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "transforms2d"
    return base / "hub"


def _is_local(source: str) -> bool:
    return Path(source).expanduser().is_dir()


def _sanitise(source: str) -> str:
    if _is_local(source):  # a local directory is keyed by its absolute path
        source = str(Path(source).expanduser().resolve())
    return re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_.") or "source"


def load_hub(source: str = DEFAULT_SOURCE, cache_dir: str | os.PathLike | None = None
             ) -> AssetPack:
    """The authors' objects and backgrounds.

    Args:
        source: a hub dataset id, or a local directory holding ``foregrounds/`` and
            ``backgrounds/`` saved with ``datasets``' ``save_to_disk`` (a ``DatasetDict`` with a
            ``train`` split, or a ``Dataset``).
        cache_dir: overrides the cache root (see the module docstring).

    Returns:
        A pack with objects ``(4, h, w)`` uint8 RGBA named by the label feature's class names
        (``object_<label>`` if the labels are not a ``ClassLabel``), and backgrounds
        ``(3, h, w)`` uint8 RGB, family ``"photo"``; image sizes as stored in the source.
    """
    path = cache_root(cache_dir) / _sanitise(source) / "images.npz"
    if not path.is_file():
        fg_names, fg = _first_per_label(source, "foregrounds", "RGBA")
        bg = _all_rows(source, "backgrounds", "RGB")
        _write_cache(path, fg_names, fg, bg)
    names, objects, backgrounds = _read_cache(path)
    return AssetPack(
        name="hub" if source == DEFAULT_SOURCE else f"hub:{source}",
        objects=objects,
        object_names=names,
        backgrounds=backgrounds,
        background_families=("photo",) * len(backgrounds),
        description=f"{len(objects)} objects and {len(backgrounds)} photographs from '{source}'",
        license=LICENSE.format(source=source),
    )


# --------------------------------------------------------------------------- reading the source
def _datasets():
    try:
        import datasets
    except ImportError as e:
        raise ConfigError("The 'hub' asset pack needs Hugging Face datasets: "
                          "pip install 'transforms2d[hub]' (or use the offline 'builtin' pack)."
                          ) from e
    return datasets


def _load_split(source: str, config: str):
    """The ``train`` split of one config, as a ``datasets.Dataset``."""
    datasets = _datasets()
    try:
        if _is_local(source):
            where = Path(source).expanduser() / config
            if not where.is_dir():
                raise ConfigError(f"Local hub source {source} has no '{config}' folder; save "
                                  f"each config with save_to_disk to {where}.")
            ds = datasets.load_from_disk(str(where))
        else:
            ds = datasets.load_dataset(source, config, split="train")
    except ConfigError:
        raise
    except Exception as e:  # network, missing repo, bad files: one line for the user
        reason = (str(e).strip().splitlines() or [""])[0][:200]
        raise ConfigError(f"Could not load config '{config}' of '{source}' ({type(e).__name__}: "
                          f"{reason}); check the network or the path, or use the offline "
                          f"'builtin' pack.") from e
    if isinstance(ds, datasets.DatasetDict):
        if "train" not in ds:
            raise ConfigError(f"'{source}' config '{config}' has no 'train' split "
                              f"(found: {', '.join(ds)}).")
        ds = ds["train"]
    missing = {"image", "label"} - set(ds.column_names)
    if missing:
        raise ConfigError(f"'{source}' config '{config}' lacks column(s) {sorted(missing)}; "
                          f"expected columns 'image' and 'label'.")
    return ds


def _first_per_label(source: str, config: str, mode: str
                     ) -> tuple[list[str], list[np.ndarray]]:
    """Names and ``(h, w, C)`` uint8 arrays of the first image of each label, labels sorted."""
    datasets = _datasets()
    ds = _load_split(source, config)
    first: dict = {}
    for i, label in enumerate(ds["label"]):  # the label column alone: no image decoding
        first.setdefault(label, i)
    if not first:
        raise ConfigError(f"'{source}' config '{config}' has no rows.")
    feature = ds.features["label"]
    names, images = [], []
    for label in sorted(first):
        with_image = ds[first[label]]["image"]  # decoded to a PIL image by the Image feature
        images.append(np.asarray(with_image.convert(mode), dtype=np.uint8))
        is_class = isinstance(feature, datasets.ClassLabel) and isinstance(label, int)
        names.append(feature.int2str(label) if is_class else f"object_{label}")
    return names, images


def _all_rows(source: str, config: str, mode: str) -> list[np.ndarray]:
    """``(h, w, C)`` uint8 arrays of every image, in dataset order."""
    ds = _load_split(source, config).select_columns(["image"])
    if len(ds) == 0:
        raise ConfigError(f"'{source}' config '{config}' has no rows.")
    return [np.asarray(row["image"].convert(mode), dtype=np.uint8) for row in ds]


# --------------------------------------------------------------------------- the disk cache
def _write_cache(path: Path, names: list[str], objects: list[np.ndarray],
                 backgrounds: list[np.ndarray]) -> None:
    """One ``.npz`` (uncompressed: photos compress poorly and loading stays fast), written to a
    temporary file and renamed, so readers never see a partial cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"format": np.asarray(CACHE_FORMAT), "object_names": np.asarray(names, dtype=str)}
    arrays.update({f"object_{i:05d}": a for i, a in enumerate(objects)})
    arrays.update({f"background_{i:05d}": a for i, a in enumerate(backgrounds)})
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(path: Path) -> tuple[tuple[str, ...], list[torch.Tensor], list[torch.Tensor]]:
    """The cached pack; a damaged cache (truncated, foreign, wrong arrays) is a one-line
    error naming it."""
    def chw(a: np.ndarray, key: str, channels: int) -> torch.Tensor:
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != channels or 0 in a.shape:
            raise ValueError(f"'{key}' is {a.dtype} of shape {a.shape}, expected uint8 "
                             f"(h, w, {channels})")
        return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).contiguous()

    try:
        with np.load(path, allow_pickle=False) as z:
            if z["format"].shape != () or int(z["format"]) != CACHE_FORMAT:
                raise ConfigError(f"Hub cache {path} has an unknown format; delete it and "
                                  f"reload.")
            names = tuple(str(n) for n in z["object_names"])
            keys = sorted(z.files)  # zero-padded indices: sorted = stored order
            objects = [chw(z[k], k, 4) for k in keys
                       if k.startswith("object_") and k[7:].isdigit()]
            backgrounds = [chw(z[k], k, 3) for k in keys if k.startswith("background_")]
        if len(names) != len(objects) or not objects:
            raise ValueError(f"{len(names)} object names for {len(objects)} objects")
    except ConfigError:
        raise
    except (OSError, EOFError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as e:
        reason = (str(e).strip().splitlines() or [""])[0][:200]
        raise ConfigError(f"Hub cache {path} is damaged ({type(e).__name__}: {reason}); "
                          f"delete it and reload.") from None
    return names, objects, backgrounds
