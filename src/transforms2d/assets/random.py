"""The paper's random-pixel objects: the ``random`` pack (docs/protocol.md §1).

Object ``k`` is a fixed image of uniform random uint8 RGB pixels, fully opaque, drawn from a
generator seeded by ``(seed, k)`` alone, so it is the same whatever ``num_objects`` is. The pack
has no background images: the renderer draws fresh random-pixel backgrounds itself.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..validation import check_int
from .base import AssetPack


def random_object(k: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Object ``k``: ``(4, size, size)`` uint8, RGB uniform in [0, 255], alpha 255."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
    rgb = rng.integers(0, 256, size=(3, size, size), dtype=np.uint8)
    alpha = np.full((1, size, size), 255, dtype=np.uint8)
    return torch.from_numpy(np.concatenate([rgb, alpha]))


@functools.lru_cache(maxsize=8)
def load_random(num_objects: int = 61, size: int = 32, seed: int = 0) -> AssetPack:
    """``num_objects`` random-pixel objects of ``size`` × ``size``, named ``random_<k>``.

    Cached per arguments (the pack's tensors are shared: do not modify them in place).
    """
    for what, value, low in (("num_objects", num_objects, 1), ("size", size, 1),
                             ("seed", seed, 0)):
        check_int(what, value, low, owner="the random pack")
    return AssetPack(
        name="random",
        objects=[random_object(k, size, seed) for k in range(num_objects)],
        object_names=tuple(f"random_{k}" for k in range(num_objects)),
        description=f"{num_objects} objects of uniform random pixels (the paper's random objects)",
        license="Generated random pixels; no third-party content.",
    )
