"""The base of every experiment's profile sizes: a frozen dataclass per experiment (its fields
the sizes, typed), one value per profile. ``t2d run --set key=value`` builds a new value
(:mod:`transforms2d.engine.overrides`); no table is ever changed.

The value names its profile (``profile``, not overridable), so that a report can say which
sizes it describes; fields left ``None`` are the training recipe's (``Sizes.train_sizes``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from ..engine import spec

S = TypeVar("S", bound="Sizes")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sizes:
    """What every profile has: its name, the model, pretraining samples, epochs and batch;
    optional early stop (``stop_train_acc``, ``None``: always run ``epochs``), weights kept
    (``keep``, ``None``: the recipe's), the training subset the fit is read on
    (``fit_samples``) and how far past its cap a model still gaining may train (``extend``,
    a multiple of the cap: 1.0 = up to twice the cap; both ``None``: not used,
    docs/protocol.md §10.2)."""

    profile: str = dataclasses.field(metadata={"override": False})
    model: str
    n: int
    epochs: int
    batch_size: int
    stop_train_acc: float | None = None
    keep: str | None = None
    fit_samples: int | None = None
    extend: float | None = None

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


def budget_epochs(sizes: Any) -> list[int]:
    """The pretraining epochs of each of ``sizes.budgets`` (multiples of ``sizes.epochs``,
    at least 1), in order."""
    return [max(1, round(b * sizes.epochs)) for b in sizes.budgets]


def by_profile(cls: type[S], table: Mapping[str, Mapping[str, Any]]) -> dict[str, S]:
    """``{profile: cls(profile=profile, **sizes)}``: a size table written as keyword lists."""
    return {name: cls(profile=name, **sizes) for name, sizes in table.items()}
