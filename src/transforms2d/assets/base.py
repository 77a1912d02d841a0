"""The asset-pack contract shared by every pack (builtin, hub, folder, random).

A pack is a set of object prototypes (RGBA, one per class) and a set of background images
(RGB), both held as uint8 tensors. Packs know nothing about transforms or rendering: the
renderer asks a pack for its images at the output resolution once, then works on those.

Convention (docs/protocol.md §1.1):
- objects are resized to ``size × size`` with bilinear interpolation, aspect ratio ignored;
- backgrounds are cropped to their largest top-left square, then resized (bilinear) to
  ``size × size``.
Downscaling uses antialiasing, as Pillow's bilinear resize does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


def resize_uint8(images: list[torch.Tensor] | torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 images (each ``(C, h, w)``) to a stacked ``(N, C, size, size)`` uint8 tensor.

    Bilinear with antialiasing (Pillow's semantics), rounded to the nearest integer. Images that
    already have the target size are copied unchanged.
    """
    out = []
    for img in images:
        if img.shape[-2:] == (size, size):
            out.append(img.clone())
            continue
        x = img[None].float()
        y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)
        out.append(y[0].round_().clamp_(0, 255).to(torch.uint8))
    if not out:
        raise ValueError("resize_uint8 needs at least one image")
    return torch.stack(out)


def top_left_square(img: torch.Tensor) -> torch.Tensor:
    """Largest top-left square crop of a ``(C, h, w)`` image."""
    side = min(img.shape[-2:])
    return img[..., :side, :side]


@dataclass(eq=False)
class AssetPack:
    """Object prototypes and background images, as uint8 tensors.

    Attributes:
        name: pack name, e.g. ``"builtin"``.
        objects: one RGBA image per object class, each ``(4, h, w)`` uint8 with straight
            (not premultiplied) alpha. Sizes may differ between objects.
        object_names: a readable name per object, same order.
        backgrounds: RGB images, each ``(3, h, w)`` uint8 (any size, any aspect). Empty for packs
            without images (the ``random`` pack draws fresh random-pixel backgrounds instead).
        background_families: a family tag per background (e.g. ``"sky"``), same order; families
            can serve as classes.
        description: one line for ``t2d assets``.
        license: licence / attribution text of the images.
        cycle_backgrounds: with ``class_from="background"``, sample ``i`` of class ``c`` takes
            background ``(i // num_classes) % size`` of family ``c`` (each image once per pass,
            as a labelled image dataset needs) instead of a random one (the default).
    """

    name: str
    objects: list[torch.Tensor]
    object_names: tuple[str, ...]
    backgrounds: list[torch.Tensor] = field(default_factory=list)
    background_families: tuple[str, ...] = ()
    description: str = ""
    license: str = ""
    cycle_backgrounds: bool = False

    def __post_init__(self) -> None:
        assert len(self.objects) == len(self.object_names), "one name per object"
        assert len(self.backgrounds) == len(self.background_families), "one family per background"
        for o in self.objects:
            assert o.dtype == torch.uint8 and o.ndim == 3 and o.shape[0] == 4, o.shape
        for b in self.backgrounds:
            assert b.dtype == torch.uint8 and b.ndim == 3 and b.shape[0] == 3, b.shape

    @property
    def num_objects(self) -> int:
        return len(self.objects)

    @property
    def num_backgrounds(self) -> int:
        return len(self.backgrounds)

    @property
    def families(self) -> tuple[str, ...]:
        """Distinct background families, in first-seen order."""
        return tuple(dict.fromkeys(self.background_families))

    def objects_at(self, size: int) -> torch.Tensor:
        """All objects resized to ``(K, 4, size, size)`` uint8 (cached per size)."""
        return _objects_at(self, size)

    def backgrounds_at(self, size: int) -> torch.Tensor:
        """All backgrounds, top-left square crop, resized to ``(M, 3, size, size)`` uint8
        (cached)."""
        if not self.backgrounds:
            raise ValueError(f"asset pack '{self.name}' has no background images")
        return _backgrounds_at(self, size)


@functools.lru_cache(maxsize=32)
def _objects_at(pack: AssetPack, size: int) -> torch.Tensor:
    return resize_uint8(pack.objects, size)


@functools.lru_cache(maxsize=32)
def _backgrounds_at(pack: AssetPack, size: int) -> torch.Tensor:
    return resize_uint8([top_left_square(b) for b in pack.backgrounds], size)
