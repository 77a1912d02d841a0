"""The model registry (timm style, scaled down): ``@register_model`` on small entrypoints.

An entrypoint is a function ``name(num_classes=10, **kwargs) -> T2DModel``; the decorator
records a :class:`ModelInfo` under the function's name, with the first line of its docstring
as the description.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..errors import ConfigError, unknown_name

Entrypoint = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelInfo:
    """One registry entry.

    Attributes:
        name: registry name (the entrypoint's function name).
        family: architecture family (``resnet``, ``densenet``, ``vgg``, ``vit``, ``convnet``).
        description: one line, from the entrypoint's docstring.
        paper: whether the paper (docs/protocol.md §3) uses this model.
        fn: the entrypoint.
    """

    name: str
    family: str
    description: str
    paper: bool
    fn: Entrypoint


_REGISTRY: dict[str, ModelInfo] = {}
# The paper calls the small CIFAR DenseNet "densenet121" (docs/protocol.md §3).
ALIASES: dict[str, str] = {"densenet121": "densenet_cifar"}


def register_model(family: str, paper: bool = False) -> Callable[[Entrypoint], Entrypoint]:
    """Decorator: register ``fn`` under ``fn.__name__`` in ``family``."""

    def deco(fn: Entrypoint) -> Entrypoint:
        name = fn.__name__
        if name in _REGISTRY or name in ALIASES:
            raise ValueError(f"model {name!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelInfo(name, family, doc[0] if doc else "", paper, fn)
        return fn

    return deco


def unregister_model(name: str) -> ModelInfo:
    """Remove a model registered at run time (e.g. by a test); returns its entry."""
    return _REGISTRY.pop(resolve_name(name))


def list_models(pattern: str | None = None, paper: bool | None = None) -> list[str]:
    """Sorted registered names matching the fnmatch ``pattern`` (aliases not included).

    ``paper=True`` keeps only the paper's models, ``paper=False`` only the others.
    """
    names = sorted(_REGISTRY)
    if pattern is not None:
        names = fnmatch.filter(names, pattern)
    if paper is not None:
        names = [n for n in names if _REGISTRY[n].paper == paper]
    return names


def resolve_name(name: str) -> str:
    """Canonical registry name of ``name`` (aliases resolved); unknown names raise."""
    name = ALIASES.get(name, name)
    if name not in _REGISTRY:
        raise unknown_name("model", name, list_models() + sorted(ALIASES))
    return name


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of ``name`` (an alias gives its target's entry)."""
    return _REGISTRY[resolve_name(name)]


def create_model(name: str, num_classes: int = 10, **kwargs) -> nn.Module:
    """Build a fresh model by registry name (or alias).

    Keyword arguments whose value is ``None`` are dropped, so callers can pass optional
    settings through unchanged. The model records ``model_name`` and ``model_kwargs`` (what
    rebuilds it). Initialisation uses the global torch RNG: the same
    ``torch.manual_seed`` gives the same weights.

    Raises:
        ConfigError: unknown name (the message lists the valid ones), an argument the model
            does not take, or an invalid size.
    """
    info = model_info(name)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    try:
        net = info.fn(num_classes=num_classes, **kwargs)
    except TypeError as e:
        if "unexpected keyword argument" not in str(e):
            raise
        bad = str(e).split("argument")[-1].strip()
        raise ConfigError(f"Model '{info.name}' does not take the argument {bad}; "
                          f"remove it from the model settings.") from None
    net.model_name, net.model_kwargs = info.name, kwargs  # what rebuilds it (untrained)
    return net
