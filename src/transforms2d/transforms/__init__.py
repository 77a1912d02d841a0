"""The transformations of Transforms-2D, batched, with one registry (:mod:`.registry`).

The registry is the truth: :func:`transform_names` lists what is registered (the paper's 18,
then anything added with :func:`register`), each entry knows its group. ``PAPER_TRANSFORMS``
is the fixed list of the paper's 18, in its order (geometric, photometric, corruption); the
experiments draw from it, so registering a transform never changes an existing experiment.
``none`` is the identity. Shared tensor helpers are public in :mod:`.ops`.
"""

from __future__ import annotations

from . import corruption, geometric, photometric  # noqa: F401  (registration, in paper order)
from .registry import (
    GROUPS,
    REGISTRY,
    TransformInfo,
    apply_params,
    get_transform,
    register,
    resolve_hyper,
    sample_nothing,
    sample_params,
    transform_names,
    unregister,
)

PAPER_TRANSFORMS: tuple[str, ...] = (
    "scale", "translate", "v_flip", "h_flip", "rotate", "shear",
    "hue", "brightness", "grayscale", "posterize", "invert", "sharpen",
    "blur", "noise", "pixelate", "elastic", "erasing", "contrast",
)
TRANSFORMS = PAPER_TRANSFORMS  # the public name of the paper's 18 (``t2d.TRANSFORMS``)


def paper_group(group: str) -> tuple[str, ...]:
    """The paper's transforms of ``group``, in paper order (its group read from the registry)."""
    return tuple(n for n in PAPER_TRANSFORMS if get_transform(n).group == group)


GEOMETRIC, PHOTOMETRIC, CORRUPTION = (paper_group(g) for g in GROUPS)

__all__ = [
    "CORRUPTION", "GEOMETRIC", "GROUPS", "PAPER_TRANSFORMS", "PHOTOMETRIC", "REGISTRY",
    "TRANSFORMS", "TransformInfo", "apply_params", "get_transform", "paper_group", "register",
    "resolve_hyper", "sample_nothing", "sample_params", "transform_names", "unregister",
]
