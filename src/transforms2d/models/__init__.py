"""Model architectures behind one registry, with one contract (docs/protocol.md §3).

Every model is a :class:`T2DModel`: ``features(x: (B,3,H,W)) -> (B, num_features)`` is the
penultimate representation read by probes and invariance metrics (pooled features; ViT: the
final-LayerNorm CLS token), ``head`` is ``nn.Linear(num_features, num_classes)`` and
``forward = head ∘ features``. ``reset_head(n)`` swaps in a fresh head for probing.

Paper models (32-px CIFAR stems): ``resnet18``, ``resnet50``, ``densenet_cifar`` (alias
``densenet121``), ``vgg11``, ``vit``. CPU-sized members of each family for the ``quick`` and
``smoke`` profiles: ``convnet_xs``, ``convnet_s``, ``resnet_s``, ``densenet_s``, ``vgg_s``,
``vit_s``.

>>> from transforms2d.models import create_model, list_models
>>> list_models("resnet*")
['resnet18', 'resnet50', 'resnet_s']
>>> create_model("convnet_xs", num_classes=5).head
Linear(in_features=64, out_features=5, bias=True)
"""

from . import convnet, densenet, resnet, vgg, vit  # noqa: F401  (registers the entrypoints)
from .base import T2DModel
from .registry import (
    ALIASES,
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
    resolve_name,
    unregister_model,
)

__all__ = [
    "ALIASES",
    "ModelInfo",
    "T2DModel",
    "create_model",
    "list_models",
    "model_info",
    "register_model",
    "resolve_name",
    "unregister_model",
]
