"""Dataset specification, counter-based randomness, the batched renderer and the datasets:
:class:`Transforms2D` and :class:`TransformedCIFAR` (Transforms-2D transforms on whole CIFAR
images). CIFAR is read from ``root=`` or ``$T2D_CIFAR_ROOT`` (see :mod:`.cifar`); it also serves
as backgrounds via ``Transforms2D(background_pack="cifar10")``.
"""

from .cifar import cifar_available, load_cifar
from .cifar_transformed import CifarSpec, TransformedCIFAR
from .dataset import Transforms2D
from .render import Renderer
from .rng import Draws, check_seed, derive_key
from .spec import BACKGROUNDS, SPLITS, DatasetSpec, parse_transforms

__all__ = [
    "BACKGROUNDS", "SPLITS", "CifarSpec", "DatasetSpec", "Draws", "Renderer", "TransformedCIFAR",
    "Transforms2D", "check_seed", "cifar_available", "derive_key", "load_cifar", "parse_transforms",
]
