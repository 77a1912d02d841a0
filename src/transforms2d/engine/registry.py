"""The experiment registry: an experiment is a function ``(sizes, seeds) -> [RunSpec]`` plus
an ``aggregate(records, sizes) -> dict`` hook that turns stored results into tables, figures
and claim checks (computing nothing). Profiles change sizes, never logic.

``sizes`` is the chosen profile's value from the experiment's size table (a frozen dataclass,
with the ``--set`` overrides applied as a new value: :mod:`.overrides`); an experiment
registered without a size table receives the profile's name instead. ``aggregate`` receives
one record per run, in the experiment's order, for the runs that are done: ``{"hash": str,
"spec": RunSpec, "result": dict}``, and the sizes the folder was run with (from its
``experiment.json``; ``None`` if its profile is unknown). It returns a dict of ``"markdown"``
(text), ``"tables"`` ({name: DataFrame}), ``"figures"`` ({name: matplotlib Figure}) and
``"claims"`` (list of {id, claim, criterion, verdict, ours, authors}); :mod:`.report` writes
them (``t2d report``). Each experiment lives in its own module, which registers it on import
(the paper's are in :mod:`transforms2d.study`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import unknown_name
from ..validation import seed_list
from .overrides import apply, resolve
from .spec import RunSpec

DEFAULT_PROFILES = ("smoke", "quick", "paper")

Aggregate = Callable[[list[dict], Any], dict]


@dataclass(frozen=True)
class Experiment:
    """A named grid of runs and the aggregation of their results.

    Attributes:
        profiles: the size profiles the grid accepts (e.g. ``smoke``, ``quick``, ``paper``).
        paper: whether it reproduces part of the paper (``t2d reproduce`` runs those).
    """

    name: str
    runs: Callable[[Any, tuple[int, ...]], list[RunSpec]]  # (sizes, seed values)
    aggregate: Aggregate
    description: str = ""
    aliases: tuple[str, ...] = ()
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    paper: bool = False
    sizes: Mapping[str, Any] | None = None  # profile -> frozen dataclass of sizes

    def __post_init__(self) -> None:
        missing = [p for p in self.profiles if self.sizes is not None and p not in self.sizes]
        if missing:
            raise ValueError(f"experiment {self.name!r}: profile {missing[0]!r} has no sizes")

    def check_profile(self, profile: str) -> str:
        """``profile`` if this experiment has it; the one place an unknown profile is refused
        (one line listing the known ones), whatever asks: ``run``, ``reproduce``, ``plan``,
        :meth:`sizes_for`."""
        if profile not in self.profiles:
            raise unknown_name("profile", profile, self.profiles, owner=self.name)
        return profile

    def sizes_for(self, profile: str, overrides: Mapping[str, Any] | None = None) -> Any:
        """The sizes ``runs`` and ``aggregate`` receive for ``profile`` (checked): its value
        in the size table with ``overrides`` (text or typed) applied as a new value, or the
        profile's name for an experiment without a table."""
        typed = self.resolve(profile, overrides or {})
        return profile if self.sizes is None else apply(self.sizes[profile], typed)

    def specs(self, profile: str, seeds: int | Sequence[int],
              overrides: Mapping[str, Any] | None = None) -> list[RunSpec]:
        """The run specs for ``profile`` and ``seeds`` (both validated here), with size
        ``overrides`` (:func:`~transforms2d.engine.overrides.resolve`d) applied."""
        return self.runs(self.sizes_for(profile, overrides), seed_list(seeds, owner=self.name))

    def resolve(self, profile: str, sets: Mapping[str, Any]) -> dict[str, Any]:
        """Typed, checked size overrides of ``profile`` (``key -> text or value``)."""
        return resolve(self.sizes, self.check_profile(profile), sets, self.name)

    def aggregate_with(self, records: list[dict], profile: str | None,
                       overrides: Mapping[str, Any] | None = None) -> dict:
        """``aggregate`` with the sizes of the folder's profile and recorded overrides (``None``
        for a profile this experiment does not know)."""
        if profile not in self.profiles:
            return self.aggregate(records, None if self.sizes is not None else profile)
        return self.aggregate(records, self.sizes_for(profile, overrides))


EXPERIMENTS: dict[str, Experiment] = {}  # in registration order
ALIASES: dict[str, str] = {}  # alias -> name (e.g. the authors' "tvo" -> "e1")


def register_experiment(name: str, aggregate: Aggregate, description: str = "",
                        aliases: tuple[str, ...] = (), profiles: tuple[str, ...] | None = None,
                        paper: bool = False, sizes: Mapping[str, Any] | None = None):
    """Decorator: register ``fn(sizes, seeds) -> list[RunSpec]`` as experiment ``name``
    (also reachable by each of ``aliases``); ``seeds`` is the tuple of seed values to run
    (``--seeds 3`` gives ``(0, 1, 2)``, ``--seed-offset 5`` shifts them). The description
    defaults to the first line of ``fn``'s docstring. ``sizes`` is the profile -> sizes table
    (frozen dataclasses) whose value ``fn`` and ``aggregate`` receive and ``t2d run --set
    key=value`` overrides (:mod:`.overrides`); without it they receive the profile's name.
    ``profiles`` defaults to the table's profiles (:data:`DEFAULT_PROFILES` without one)."""
    if profiles is None:
        profiles = DEFAULT_PROFILES if sizes is None else tuple(sizes)
    def deco(fn: Callable[[Any, tuple[int, ...]], list[RunSpec]]):
        taken = [a for a in (name, *aliases) if a in ALIASES or a in EXPERIMENTS]
        if taken:
            raise ValueError(f"experiment name or alias {taken[0]!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()
        EXPERIMENTS[name] = Experiment(name, fn, aggregate, description or (doc[0] if doc else ""),
                                       tuple(aliases), tuple(profiles), paper, sizes)
        ALIASES.update({a: name for a in aliases})
        return fn
    return deco


def unregister_experiment(name: str) -> Experiment:
    """Remove an experiment (and its aliases) registered at run time, e.g. by a test."""
    exp = EXPERIMENTS.pop(get_experiment(name).name)
    for a in exp.aliases:
        ALIASES.pop(a, None)
    return exp


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name`` or under the alias ``name``."""
    name = ALIASES.get(name, name)
    if name not in EXPERIMENTS:
        raise unknown_name("experiment", name, [*EXPERIMENTS, *ALIASES])
    return EXPERIMENTS[name]


def paper_experiments() -> tuple[str, ...]:
    """The registered experiments that reproduce the paper, in registration order."""
    return tuple(name for name, exp in EXPERIMENTS.items() if exp.paper)
