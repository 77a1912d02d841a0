"""Dataset specification, counter-based randomness, the batched renderer and the dataset."""

from .dataset import Transforms2D
from .render import Renderer
from .rng import Draws, check_seed, derive_key
from .spec import BACKGROUNDS, SPLITS, DatasetSpec, parse_transforms

__all__ = [
    "BACKGROUNDS", "SPLITS", "DatasetSpec", "Draws", "Renderer", "Transforms2D", "check_seed",
    "derive_key", "parse_transforms",
]
