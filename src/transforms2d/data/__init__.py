"""Datasets: the dataset specification, the batched renderer and the torch datasets
:class:`Transforms2D` and :class:`TransformedCIFAR` (Transforms-2D transforms on whole CIFAR
images), :class:`ImageFolderDataset` (the same on a user's image folder), and Figure-1
preview grids (:mod:`.preview`). CIFAR is read from ``root=`` or ``$T2D_CIFAR_ROOT`` by
:mod:`transforms2d.assets.cifar`; it also serves as backgrounds via
``Transforms2D(background_pack="cifar10")``.
"""

from ..assets.cifar import cifar_available, load_cifar
from .cifar import CifarSpec, TransformedCIFAR
from .dataset import TWIN_FACTORS, Transforms2D
from .images import ImageFolderDataset
from .render import Renderer
from .scenes import object_scenes  # registers the "objects" background pack
from .spec import BACKGROUNDS, SPLITS, DatasetSpec, parse_transforms

__all__ = [
    "BACKGROUNDS", "SPLITS", "TWIN_FACTORS", "CifarSpec", "DatasetSpec", "ImageFolderDataset",
    "Renderer",
    "TransformedCIFAR", "Transforms2D", "cifar_available", "load_cifar", "object_scenes",
    "parse_transforms",
]
