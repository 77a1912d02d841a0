"""The base of every experiment's profile sizes: a frozen dataclass per experiment (its fields
the sizes, typed), one value per profile. ``t2d run --set key=value`` builds a new value
(:mod:`transforms2d.engine.overrides`), parsed by each field's declared type and checked
against the range it declares here (:func:`size`); no table is ever changed.

The value names its profile (``profile``, not overridable), so that a report can say which
sizes it describes; fields left ``None`` are the training recipe's (``Sizes.train_sizes``).
What the experiments share is declared once: the training sizes (:class:`Sizes`), the
Transforms-2D grids' image side, validation samples and budgets (:class:`GridSizes`, every
paper experiment) and the linear probes' samples and views (:class:`ProbeSizes`, those that
probe).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from ..data.dataset import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE
from ..engine import spec
from ..models import ALIASES, list_models
from ..train.config import KEEPS

S = TypeVar("S", bound="Sizes")


def size(*, min: float | None = None, max: float | None = None, above: float | None = None,
         choices: Collection[str] | Callable[[], Collection[str]] | None = None,
         default: Any = dataclasses.MISSING, override: bool = True) -> Any:
    """A sizes field with its range in metadata, which ``--set`` checks (every number of the
    value in ``[min, max]`` and ``> above``, every text one of ``choices``: a collection, or
    a function returning one, for registries that grow at run time)."""
    meta = {k: v for k, v in dict(min=min, max=max, above=above, choices=choices).items()
            if v is not None}
    return dataclasses.field(default=default, metadata={**meta, "override": override})


def model_names() -> list[str]:
    """The registered models and their aliases (read when a size is checked)."""
    return [*list_models(), *ALIASES]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sizes:
    """What every profile has: its name, the model, pretraining samples, epochs and batch;
    optional early stop (``stop_train_acc``, ``None``: always run ``epochs``), weights kept
    (``keep``, ``None``: the recipe's), the training subset the fit is read on
    (``fit_samples``; 0 or ``None``: not read) and how far past its cap a model still gaining
    may train (``extend``, a multiple of the cap: 1.0 = up to twice the cap; 0 or ``None``:
    not used, docs/protocol.md §10.2)."""

    profile: str = size(override=False)
    model: str = size(choices=model_names)
    n: int = size(min=1)
    epochs: int = size(min=1)
    batch_size: int = size(min=1)
    stop_train_acc: float | None = size(min=0, max=1, default=None)
    keep: str | None = size(choices=KEEPS, default=None)
    fit_samples: int | None = size(min=0, default=None)
    extend: float | None = size(min=0, default=None)

    def train_sizes(self, epochs: int | None = None) -> dict[str, Any]:
        """The ``TrainConfig`` sizes a run spec takes from the profile (those set), ``epochs``
        in place of the profile's where given (``extend_epochs``: ``extend`` times them)."""
        out = {k: getattr(self, k) for k in spec.SIZE_KEYS
               if getattr(self, k, None) is not None}
        if epochs is not None:
            out["epochs"] = epochs
        if self.extend:  # the same multiple of every model's own cap
            out["extend_epochs"] = round(self.extend * out["epochs"])
        return out

    def train_settings(self, model: str | None = None, epochs: int | None = None
                       ) -> dict[str, Any]:
        """A run spec's ``train`` field: the paper recipe of ``model`` (default: the
        profile's) with these sizes (:func:`~transforms2d.engine.spec.train_settings`)."""
        return spec.train_settings(model or self.model, self.train_sizes(epochs))


@dataclasses.dataclass(frozen=True, kw_only=True)
class GridSizes(Sizes):
    """What every Transforms-2D grid adds: the image side, validation samples and
    ``budgets`` (seed 0 also at these multiples of ``epochs``; none by default)."""

    image_size: int = size(min=MIN_IMAGE_SIZE, max=MAX_IMAGE_SIZE)
    n_val: int = size(min=1)
    budgets: tuple[float, ...] = size(above=0, default=())


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProbeSizes:
    """The linear probes' sizes (a mixin): training and test samples, cached views."""

    n_probe: int = size(min=1)
    n_test: int = size(min=1)
    views: int = size(min=1)


def budget_epochs(sizes: Any) -> list[int]:
    """The pretraining epochs of each of ``sizes.budgets`` (multiples of ``sizes.epochs``,
    at least 1), in order."""
    return [max(1, round(b * sizes.epochs)) for b in sizes.budgets]


def by_profile(cls: type[S], table: Mapping[str, Mapping[str, Any]]) -> dict[str, S]:
    """``{profile: cls(profile=profile, **sizes)}``: a size table written as keyword lists."""
    return {name: cls(profile=name, **sizes) for name, sizes in table.items()}
