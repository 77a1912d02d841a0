"""One registry for the 18 transformations (plus ``none``) and the generic sample/apply steps.

Each entry pairs a pure sampler ``sample(draws, size, **hyper) -> params`` with a pure applier
``apply(x, **params) -> x`` (kornia's split). ``hyper`` are the paper's distribution parameters
(overridable); ``params`` are the per-sample values drawn from them — plain data that can be
stored and replayed. A hyper-parameter ``p`` makes the transform apply to a random subset of
the batch; the subset is drawn here, once for every entry, and the applier only sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch

from ..data.rng import Draws
from ..errors import ConfigError, unknown_name

GROUPS = ("geometric", "photometric", "corruption")


@dataclass(frozen=True)
class TransformInfo:
    """A registered transformation.

    Attributes:
        name: registry name (SPEC §1.2).
        group: ``geometric``, ``photometric``, ``corruption`` or ``none``.
        sample: ``(draws, size, **hyper) -> dict`` of per-sample tensors (first dim = number of
            samples it applies to) and static values.
        apply: ``(x (B, 4, H, W) float32 in [0, 1], **params) -> (B, 4, H, W)``.
        defaults: the paper's hyper-parameters; pixel quantities are at 32 px and scale with
            the image size.
        summary: one line for ``t2d transforms``.
        changes_alpha: whether the object's alpha mask can change.
    """

    name: str
    group: str
    sample: Callable[..., dict[str, Any]]
    apply: Callable[..., torch.Tensor]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    changes_alpha: bool = False


REGISTRY: dict[str, TransformInfo] = {}


def register(name: str, group: str, sampler: Callable, summary: str,
             changes_alpha: bool = False, **defaults: Any):
    """Decorator for an applier: registers it with its sampler and the paper's defaults."""

    def deco(applier: Callable) -> Callable:
        REGISTRY[name] = TransformInfo(
            name, group, sampler, applier, MappingProxyType(dict(defaults)), summary,
            changes_alpha,
        )
        return applier

    return deco


def get_transform(name: str) -> TransformInfo:
    """Look a transform up by name; unknown names suggest the closest one."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise unknown_name("transform", name, REGISTRY) from None


def resolve_hyper(info: TransformInfo, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The paper's hyper-parameters with ``overrides`` applied; unknown keys are errors."""
    bad = set(overrides) - set(info.defaults)
    if bad:
        valid = ", ".join(info.defaults) or "none"
        raise ConfigError(
            f"Transform '{info.name}' has no parameter {sorted(bad)[0]!r}; valid: {valid}."
        )
    hyper = {**info.defaults, **overrides}
    p = hyper.get("p")
    if p is not None and not 0.0 <= float(p) <= 1.0:
        raise ConfigError(f"Transform '{info.name}': p must be in [0, 1]. Got {p}.")
    for key, value in hyper.items():
        if isinstance(value, tuple | list) and len(value) == 2 and value[0] > value[1]:
            raise ConfigError(
                f"Transform '{info.name}': range {key}={tuple(value)} must have low <= high."
            )
    return hyper


def sample_params(
    info: TransformInfo, draws: Draws, size: int, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Draw the parameters of ``info`` for every sample of ``draws`` at image ``size``.

    Returns a dict with ``index`` — ``(n,)`` int64 positions in the batch the transform applies
    to, or ``None`` for all — and the sampler's per-sample tensors for those positions.
    """
    hyper = resolve_hyper(info, overrides or {})
    p = hyper.pop("p", None)
    index = None
    if p is not None:
        index = draws.bernoulli(float(p)).nonzero().squeeze(1)
        draws = draws.subset(index)
    params = info.sample(draws, size, **hyper)
    params["index"] = index
    return params


def apply_params(info: TransformInfo, x: torch.Tensor, params: Mapping[str, Any]) -> torch.Tensor:
    """Apply ``info`` with drawn ``params`` to ``x (B, 4, H, W)``; returns a new tensor."""
    rest = {k: v for k, v in params.items() if k != "index"}
    index = params.get("index")
    if x.shape[0] == 0:
        return x.clone()
    if index is None:
        return info.apply(x, **rest)
    if index.numel() == 0:
        return x
    return x.index_copy(0, index, info.apply(x.index_select(0, index), **rest))
