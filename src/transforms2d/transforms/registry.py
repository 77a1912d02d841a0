"""One registry for the transformations (the paper's 18, ``none`` and any registered later) and
the generic sample/apply steps.

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

from .._lazy import lazy_import
from ..errors import ConfigError, unknown_name
from ..rng import Draws
from ..validation import check_fraction, check_int, check_number, invalid

torch = lazy_import("torch")  # deferred: listing the registry needs no tensors

GROUPS = ("geometric", "photometric", "corruption")  # "none" is the identity's own group
#: Largest magnitude of a hyper-parameter value (beyond it float32 arithmetic overflows).
MAX_HYPER = 1e6


@dataclass(frozen=True)
class TransformInfo:
    """A registered transformation.

    Attributes:
        name: registry name.
        group: ``geometric``, ``photometric``, ``corruption`` or ``none``.
        sample: ``(draws, size, **hyper) -> dict`` of per-sample tensors (first dim = number of
            samples it applies to) and static values.
        apply: ``(x (B, 4, H, W) float32 in [0, 1], **params) -> (B, 4, H, W)``.
        defaults: the paper's hyper-parameters; pixel quantities are at 32 px and scale with
            the image size.
        summary: one line for ``t2d transforms``.
        changes_alpha: whether the object's alpha mask can change.
        limits: ``{hyper-parameter: (low, high, low_open)}``, the valid values of each number
            (of both ends of a range); others lie in ``[-MAX_HYPER, MAX_HYPER]``.
    """

    name: str
    group: str
    sample: Callable[..., dict[str, Any]]
    apply: Callable[..., torch.Tensor]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    changes_alpha: bool = False
    limits: Mapping[str, tuple[float, float, bool]] = field(default_factory=dict)


REGISTRY: dict[str, TransformInfo] = {}  # name -> entry; see transform_names() for the order


def register(name: str, group: str, sampler: Callable, summary: str,
             changes_alpha: bool = False, limits: Mapping[str, tuple] | None = None,
             **defaults: Any):
    """Decorator for an applier: registers it under ``name`` in ``group`` (one of
    :data:`GROUPS`) with its sampler and default hyper-parameters (``limits``: see
    :class:`TransformInfo`). This is all it takes to add a transform: datasets,
    ``t2d transforms`` and the contract tests then include it."""
    if name in REGISTRY:
        raise ValueError(f"transform {name!r} is already registered")
    if group not in (*GROUPS, "none"):
        raise ValueError(f"transform group must be one of {', '.join(GROUPS)}; got {group!r}")

    def deco(applier: Callable) -> Callable:
        REGISTRY[name] = TransformInfo(
            name, group, sampler, applier, MappingProxyType(dict(defaults)), summary,
            changes_alpha, MappingProxyType(dict(limits or {})),
        )
        return applier

    return deco


def unregister(name: str) -> TransformInfo:
    """Remove a transform registered at run time (e.g. by a test); returns its entry."""
    return REGISTRY.pop(get_transform(name).name)


def transform_names(group: str | None = None) -> tuple[str, ...]:
    """The registered transforms (``none`` excluded), optionally of one ``group``: by group in
    :data:`GROUPS` order, then in registration order (the paper's 18 thus in paper order)."""
    names = [n for n, info in REGISTRY.items()
             if info.group != "none" and (group is None or info.group == group)]
    return tuple(sorted(names, key=lambda n: GROUPS.index(REGISTRY[n].group)))


def sample_nothing(d: Draws, size: int) -> dict:
    """No per-sample parameters (the registry draws which samples a ``p`` transform hits)."""
    return {}


def sample_factor(d: Draws, size: int, factor=(0.0, 2.0)) -> dict:
    """Returns ``factor (n,)`` ~ U[factor] (brightness, contrast)."""
    return {"factor": d.uniform(1, *factor)[:, 0]}


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
            f"Transform '{info.name}' has no parameter {sorted(bad, key=str)[0]!r}; valid: "
            f"{valid}."
        )
    hyper = {**info.defaults, **overrides}
    if hyper.get("p") is not None:
        check_fraction("p", hyper["p"], owner=f"transform '{info.name}'")
    for key, value in overrides.items():
        if key != "p":
            _check_hyper(info, key, value)
    for key, value in hyper.items():
        if isinstance(value, tuple | list) and len(value) == 2 and value[0] > value[1]:
            raise ConfigError(
                f"Transform '{info.name}': range {key}={tuple(value)} must have low <= high."
            )
    return hyper


def _check_hyper(info: TransformInfo, key: str, value: Any) -> None:
    """A number (an int where the paper's value is one), or a ``[low, high]`` pair where the
    paper's value is a range, inside the parameter's limits."""
    owner = f"transform '{info.name}'"
    low, high, low_open = info.limits.get(key, (-MAX_HYPER, MAX_HYPER, False))
    default = info.defaults[key]
    if isinstance(default, tuple):
        if not (isinstance(value, tuple | list) and len(value) == 2):
            raise invalid(key, "a [low, high] pair of numbers", value, owner=owner)
        for v in value:
            check_number(key, v, low, high, low_open=low_open, owner=owner)
    elif isinstance(default, int) and not isinstance(default, bool):
        check_int(key, value, low + low_open, high, owner=owner)
    else:
        check_number(key, value, low, high, low_open=low_open, owner=owner)


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


@register("none", "none", sample_nothing, "identity")
def apply_none(x: torch.Tensor) -> torch.Tensor:
    """Identity: the same tensor, not a copy.

    >>> x = torch.zeros(1, 4, 2, 2)
    >>> apply_none(x) is x
    True
    """
    return x
