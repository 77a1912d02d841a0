"""CIFAR-10/100 images as backgrounds, their classes as families (the irrelevant-features
experiment, E2).

Used as ``Transforms2D(..., background_pack="cifar10")`` (or ``"cifar100"``, or
``"cifar10:<root>"``): the object pack's backgrounds are replaced by CIFAR images and the CIFAR
classes become the background families, in label order, so ``class_from="background"`` labels
each sample with its CIFAR class and ``correlation`` pairs object k with CIFAR class k.

Backgrounds depend on the split, so that test images are never seen in training: ``train`` and
``val`` use disjoint parts of CIFAR train (:func:`~.cifar.split_index`: the
last 10% of each class is val), ``test`` uses CIFAR test. The data is found as
:func:`~.cifar.load_cifar` finds it: the root after the colon, else
``$T2D_CIFAR_ROOT``, ``$T2D_CACHE/cifar``, ``~/.cache/transforms2d/cifar``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .base import AssetPack
from .cifar import default_root, load_cifar, source_split, split_index

CIFAR_PACKS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}


@dataclass(eq=False)
class CifarBackgrounds(AssetPack):
    """The CIFAR images of one of our splits as a background-only pack.

    Attributes (besides :class:`AssetPack`'s):
        images: ``(M, 3, 32, 32)`` uint8, the split's images in archive order (``backgrounds``
            holds views of them).
        labels: ``(M,)`` int64 CIFAR labels; ``background_families[j]`` is
            ``class_names[labels[j]]``.
        class_names: the CIFAR class names in label order (= :attr:`families`).
        split: ``"train"``, ``"val"`` or ``"test"``.
    """

    images: torch.Tensor = field(default_factory=lambda: torch.empty(0, 3, 32, 32,
                                                                     dtype=torch.uint8))
    labels: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.int64))
    class_names: tuple[str, ...] = ()
    split: str = "train"

    @property
    def families(self) -> tuple[str, ...]:
        """All CIFAR classes in label order (not first-seen order), so family k is class k."""
        return self.class_names

    def backgrounds_at(self, size: int) -> torch.Tensor:
        """``(M, 3, size, size)`` uint8: the images themselves at 32 px (shared: read only),
        else resized in batches (bilinear, antialiased, as :func:`~.base.resize_uint8`)."""
        if size == self.images.shape[-1]:
            return self.images
        cache = self.__dict__.setdefault("_resized", {})
        if size not in cache:
            parts = [F.interpolate(chunk.float(), size=(size, size), mode="bilinear",
                                   antialias=True, align_corners=False)
                     .round_().clamp_(0, 255).to(torch.uint8)
                     for chunk in self.images.split(4096)]
            cache[size] = torch.cat(parts)
        return cache[size]


def load_cifar_backgrounds(name: str, split: str, root: str | None = None) -> CifarBackgrounds:
    """The backgrounds of our ``split`` from CIFAR ``name`` (``"cifar10"``, ``"cifar100"``),
    cached per (name, split, root); raises :class:`ConfigError` when the data is missing."""
    base = Path(root).expanduser() if root else default_root()
    return _load(name, split, str(base.resolve()))


def clear_cache() -> None:
    """Drop the CIFAR backgrounds kept in memory (the archives' own cache:
    :func:`transforms2d.assets.cifar.clear_cache`)."""
    _load.cache_clear()


@functools.lru_cache(maxsize=6)
def _load(name: str, split: str, base: str) -> CifarBackgrounds:
    data = load_cifar(name, source_split(split), root=base)
    idx = split_index(data.labels, split)
    images, labels = data.images[idx], data.labels[idx]
    counts = torch.bincount(labels, minlength=len(data.class_names))
    if bool((counts == 0).any()):
        missing = data.class_names[int(torch.nonzero(counts == 0)[0, 0])]
        raise ConfigError(f"{CIFAR_PACKS[name]} has no {split} image of class '{missing}' "
                          f"under {base}; the data looks incomplete: re-extract the archive.")
    names = data.class_names
    return CifarBackgrounds(
        name=name, objects=[], object_names=(), backgrounds=list(images.unbind(0)),
        background_families=tuple(names[i] for i in labels.tolist()),
        description=f"{CIFAR_PACKS[name]} {split} images as backgrounds, classes as families",
        license="CIFAR (Krizhevsky, 2009), https://www.cs.toronto.edu/~kriz/cifar.html",
        cycle_backgrounds=True, images=images, labels=labels, class_names=names, split=split,
    )
