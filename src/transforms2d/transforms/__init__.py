"""The 18 transformations of Transforms-2D (SPEC §1.2), batched, with one registry.

``TRANSFORMS`` lists them in SPEC order (geometric, photometric, corruption); ``none`` is the
identity. See :mod:`.registry` for the sample/apply contract.
"""

from __future__ import annotations

import torch

from . import corruption, geometric, photometric  # noqa: F401  (registration)
from .geometric import sample_nothing
from .registry import (
    GROUPS,
    REGISTRY,
    TransformInfo,
    apply_params,
    get_transform,
    register,
    resolve_hyper,
    sample_params,
)

GEOMETRIC = ("scale", "translate", "v_flip", "h_flip", "rotate", "shear")
PHOTOMETRIC = ("hue", "brightness", "grayscale", "posterize", "invert", "sharpen")
CORRUPTION = ("blur", "noise", "pixelate", "elastic", "erasing", "contrast")
TRANSFORMS: tuple[str, ...] = GEOMETRIC + PHOTOMETRIC + CORRUPTION


@register("none", "none", sample_nothing, "identity")
def apply_none(x: torch.Tensor) -> torch.Tensor:
    """Identity."""
    return x


assert set(REGISTRY) == set(TRANSFORMS) | {"none"}, sorted(REGISTRY)
for _name, _group in zip(TRANSFORMS, ["geometric"] * 6 + ["photometric"] * 6 + ["corruption"] * 6):
    assert REGISTRY[_name].group == _group, _name

__all__ = [
    "CORRUPTION", "GEOMETRIC", "GROUPS", "PHOTOMETRIC", "REGISTRY", "TRANSFORMS",
    "TransformInfo", "apply_params", "get_transform", "register", "resolve_hyper",
    "sample_params",
]
