"""A user's own images as an asset pack: ``folder:<path>``.

Layout::

    <path>/objects/<name>.png          one RGBA image per object class (name = file stem, sorted)
    <path>/backgrounds/*.jpg           optional; backgrounds directly here get family "default"
    <path>/backgrounds/<family>/*.jpg  ... or in sub-folders, family = sub-folder name

Objects may be PNG or WebP with an alpha channel; backgrounds PNG, JPEG or WebP (converted to
RGB). Hidden files and files with other extensions are ignored. Every problem is reported as a
one-line :class:`ConfigError` naming the offending path and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ..errors import ConfigError
from .base import AssetPack

OBJECT_EXTS = (".png", ".webp")
BACKGROUND_EXTS = (".png", ".jpg", ".jpeg", ".webp")
DEFAULT_FAMILY = "default"


def load_folder(path: str | os.PathLike) -> AssetPack:
    """Load ``objects/`` (``(4, h, w)`` uint8 RGBA each) and ``backgrounds/`` (``(3, h, w)``
    uint8 RGB each) from a directory; see the module docstring for the layout."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ConfigError(f"Asset folder not found: {root}; pass a directory that holds an "
                          f"objects/ sub-folder (folder:<path>).")
    obj_dir = root / "objects"
    if not obj_dir.is_dir():
        raise ConfigError(f"Asset folder {root} has no objects/ sub-folder; create {obj_dir} "
                          f"with one RGBA PNG per object class.")
    files = _images_in(obj_dir, OBJECT_EXTS)
    if not files:
        raise ConfigError(f"No object images (.png, .webp) in {obj_dir}; add one RGBA PNG per "
                          f"object class.")
    _check_unique_stems(files)
    objects = [_load_object(f) for f in files]

    backgrounds: list[torch.Tensor] = []
    families: list[str] = []
    bg_dir = root / "backgrounds"
    if bg_dir.is_dir():
        groups = [(DEFAULT_FAMILY, _images_in(bg_dir, BACKGROUND_EXTS))]
        groups += [(d.name, _images_in(d, BACKGROUND_EXTS)) for d in sorted(bg_dir.iterdir())
                   if d.is_dir() and not d.name.startswith(".")]
        for family, fs in groups:
            for f in fs:
                backgrounds.append(_load_background(f))
                families.append(family)
        if not backgrounds:
            raise ConfigError(f"No background images (.png, .jpg, .jpeg, .webp) in {bg_dir} or "
                              f"its sub-folders; add some or remove the folder.")
    return AssetPack(
        name=f"folder:{root}",
        objects=objects,
        object_names=tuple(f.stem for f in files),
        backgrounds=backgrounds,
        background_families=tuple(families),
        description=f"{len(objects)} objects and {len(backgrounds)} backgrounds from {root}",
        license=f"User-provided images from {root}.",
    )


def _images_in(folder: Path, exts: tuple[str, ...]) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in exts)


def _check_unique_stems(files: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for f in files:
        if f.stem in seen:
            raise ConfigError(f"Two object images share the name '{f.stem}': {seen[f.stem]} and "
                              f"{f}; rename or remove one (object names are file stems).")
        seen[f.stem] = f


def open_image(path: Path) -> Image.Image:
    """Fully decode an image file, or raise a one-line ConfigError naming it."""
    try:
        with Image.open(path) as im:
            im.load()
            return ImageOps.exif_transpose(im)  # camera photos: honour the orientation tag
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"Cannot read image {path} ({reason}); replace the file with a valid "
                          f"image or remove it.") from e


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _to_chw(im: Image.Image, mode: str) -> torch.Tensor:
    arr = np.asarray(im.convert(mode), dtype=np.uint8)  # (h, w, C)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def _load_object(path: Path) -> torch.Tensor:
    im = open_image(path)
    if not _has_alpha(im):
        raise ConfigError(f"Object image {path} has no alpha channel (mode {im.mode}); save it "
                          f"as an RGBA PNG with a transparent background.")
    return _to_chw(im, "RGBA")


def _load_background(path: Path) -> torch.Tensor:
    return _to_chw(open_image(path), "RGB")
