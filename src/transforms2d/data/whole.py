"""Transforms-2D transformations on whole images (CIFAR, a user's image folder).

One loop, shared by :class:`~transforms2d.data.TransformedCIFAR` and
:class:`~transforms2d.data.ImageFolderDataset`: each image gets an opaque alpha channel and the
transform list is applied exactly as the Transforms-2D renderer applies it to an object canvas
(same samplers, appliers and random streams), then composited onto black. ``translate`` shifts
the whole image by integers uniform in ``[-r, r]`` (:func:`max_shift`).
"""

from __future__ import annotations

import torch

from ..rng import Draws, derive_key
from ..transforms import apply_params, get_transform, sample_params
from ..transforms.ops import shift_per_sample
from .render import OBJECT_SCALE
from .spec import TransformList


def max_shift(size: int) -> int:
    """Largest shift (px) of ``translate`` on whole images: half the free room of a
    Transforms-2D object box (5 at 32 px)."""
    return round((1.0 - OBJECT_SCALE) * size / 2)


def translate_whole(x: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
    """Shift ``x (B, C, S, S)`` by ``floor(position * (2r + 1)) - r`` px (rows, columns;
    ``position (B, 2)`` in [0, 1) from the registry's translate sampler); zeros fill in."""
    r = max_shift(x.shape[-1])
    d = (position.double() * (2 * r + 1)).floor().long().clamp_(max=2 * r) - r
    return shift_per_sample(x, d[:, 0], d[:, 1])


def transform_whole(rgb: torch.Tensor, transforms: TransformList, index: torch.Tensor,
                    seed: int, split: str, transform_seed: int, epoch: int) -> torch.Tensor:
    """Apply ``transforms`` to whole images ``rgb (B, 3, S, S)`` float32 in [0, 1].

    Sample ``index[b]``'s parameters come from (seed, split, transform seed, epoch for the train
    split, index), the renderer's keys and child streams, so the result does not depend on the
    batch. Returns ``(B, 3, S, S)`` in [0, 1], composited onto black.
    """
    x = torch.cat([rgb, torch.ones_like(rgb[:, :1])], 1)  # opaque RGBA, as an object canvas
    ep = epoch if split == "train" else 0
    d = Draws(derive_key(seed, "transform", split, transform_seed, ep), index)
    for k, (name, overrides) in enumerate(transforms):
        info = get_transform(name)
        params = sample_params(info, d.child(f"{k}:{name}"), rgb.shape[-1], dict(overrides))
        if name == "translate":
            x = translate_whole(x, params["position"])
        else:
            x = apply_params(info, x, params)
    return x[:, :3].mul_(x[:, 3:4])
