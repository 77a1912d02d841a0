"""``ImageFolderDataset``: the Transforms-2D transformations on a user's own images.

Layout: image files (PNG, JPEG, WebP) directly in the folder (one class), or in sub-folders
(class = sub-folder name, sorted). Each image is centre-cropped to a square and resized to
``image_size`` once, when the dataset is built; the transforms are applied to the whole image
as for CIFAR (:mod:`transforms2d.data.whole`: same samplers, appliers, random streams and
determinism contract). Sample ``i`` shows image ``i % num_images``, so ``n`` may exceed the
number of images (each repeat gets its own transform parameters).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import DEFAULT_IMAGE_SIZE
from ..assets.folder import BACKGROUND_EXTS, open_image
from ..errors import ConfigError
from ..validation import check_choice, check_device, check_int
from .batched import BatchedDataset
from .dataset import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE
from .spec import SPLITS, TransformLike, TransformList, parse_transforms
from .whole import transform_whole


@dataclass(frozen=True)
class ImageFolderSpec:
    """Everything that defines an :class:`ImageFolderDataset`."""

    root: str
    transforms: TransformList
    n: int
    split: str = "test"
    seed: int = 0
    image_size: int = DEFAULT_IMAGE_SIZE
    transform_seed: int = 0

    def with_(self, **changes: Any) -> ImageFolderSpec:
        return replace(self, **changes)


def image_files(root: Path) -> tuple[list[Path], list[int], list[str]]:
    """``(files, labels, class_names)`` of an image folder (see the module docstring)."""
    if not root.is_dir():
        raise ConfigError(f"Image folder not found: {root}; pass a directory of images.")

    def images(d: Path) -> list[Path]:
        return sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")
                      and p.suffix.lower() in BACKGROUND_EXTS)

    subs = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    groups = [(root.name, images(root))] + [(d.name, images(d)) for d in subs]
    groups = [(name, fs) for name, fs in groups if fs]
    if not groups:
        raise ConfigError(f"No images (.png, .jpg, .jpeg, .webp) in {root} or its "
                          f"sub-folders; pass a folder that holds some.")
    files = [f for _, fs in groups for f in fs]
    labels = [k for k, (_, fs) in enumerate(groups) for _ in fs]
    return files, labels, [name for name, _ in groups]


def square(path: Path, size: int) -> torch.Tensor:
    """Centre-crop to a square and resize to ``size`` (antialiased bicubic): ``(3, S, S)``
    uint8."""
    im = open_image(path).convert("RGB")
    w, h = im.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
    return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1)


class ImageFolderDataset(BatchedDataset):
    """A user's images under Transforms-2D transformations (API of
    :class:`~transforms2d.data.TransformedCIFAR`: ``render``, ``loader``, ``twin``,
    ``with_transform_seed``...).

    Args:
        root: the image folder (see the module docstring).
        transforms: transform names in application order (``"rotate,hue"`` or a list; entries
            may be ``(name, {param: value})``).
        n: samples (default: one per image); sample ``i`` shows image ``i % num_images``.
        split: names the random stream of the transform parameters (``"test"`` by default).
        seed, transform_seed: seed the transform parameters (``transform_seed`` alone makes
            the invariance twin, :meth:`with_transform_seed`).
        image_size: side the images are resized to.
        device: where the images live and batches are rendered.

    Items are ``(image (3, S, S) float32 in [-1, 1], label int)``, the label being the
    sub-folder's index (0 for images directly in ``root``).
    """

    def __init__(self, root: str | os.PathLike, transforms: Sequence[TransformLike] | str = (),
                 n: int | None = None, split: str = "test", seed: int = 0,
                 transform_seed: int = 0, image_size: int = DEFAULT_IMAGE_SIZE,
                 device: str | torch.device = "cpu") -> None:
        check_choice("split", split, SPLITS)
        check_int("seed", seed, 0)
        check_int("transform_seed", transform_seed, 0)
        check_int("image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
        device = check_device("device", device)
        path = Path(root).expanduser().resolve()
        files, labels, self.class_names = image_files(path)
        n = len(files) if n is None else check_int("n", n, 1)
        self.spec = ImageFolderSpec(str(path), parse_transforms(transforms), n, split, seed,
                                    image_size, transform_seed)
        self.files = tuple(str(f) for f in files)
        self.num_classes = len(self.class_names)
        self.epoch = 0
        self.device = device
        self._images = torch.stack([square(f, image_size) for f in files]).to(device)
        self._labels = torch.tensor(labels, dtype=torch.int64, device=device)

    def __repr__(self) -> str:
        s = self.spec
        names = "[" + ", ".join(t for t, _ in s.transforms) + "]"
        return (f"ImageFolderDataset({s.root!r}, n={s.n}, images={len(self.files)}, "
                f"transforms={names})")

    def _render_batch(self, index: torch.Tensor, epoch: int):
        sp = self.spec
        index = index.to(self.device).reshape(-1)
        which = index % len(self._images)
        rgb = self._images.index_select(0, which).float().mul_(1.0 / 255.0)
        out = transform_whole(rgb, sp.transforms, index, sp.seed, sp.split, sp.transform_seed,
                              epoch)
        return out.mul_(2.0).sub_(1.0).clamp_(-1.0, 1.0), self._labels.index_select(0, which)

    def with_transform_seed(self, transform_seed: int) -> ImageFolderDataset:
        """A twin: the same image at every index, independently drawn transform parameters."""
        check_int("transform_seed", transform_seed, 0)
        out = object.__new__(ImageFolderDataset)
        out.__dict__.update(self.__dict__)
        out.spec = self.spec.with_(transform_seed=transform_seed)
        return out

    def twin(self, factor: str, seed: int) -> ImageFolderDataset:
        """The invariance twin; only ``"transform"`` exists for whole images."""
        check_choice("factor", factor, ("transform",))
        return self.with_transform_seed(seed)

    def with_transforms(self, transforms: Sequence[TransformLike] | str) -> ImageFolderDataset:
        """The same images under other transforms (no files re-read)."""
        out = self.with_transform_seed(self.spec.transform_seed)
        out.spec = self.spec.with_(transforms=parse_transforms(transforms))
        return out
