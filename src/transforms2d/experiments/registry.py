"""The experiment registry: an experiment is a function ``(profile, seeds) -> [RunSpec]`` plus
an ``aggregate(records) -> dict`` hook that turns stored results into tables, figures and claim
checks (computing nothing). Profiles change sizes, never logic.

``aggregate`` receives one record per run, in the experiment's order, for the runs that are
done: ``{"hash": str, "spec": RunSpec, "result": dict}``. It returns a dict of ``"markdown"``
(text), ``"tables"`` ({name: DataFrame}), ``"figures"`` ({name: matplotlib Figure}) and
``"claims"`` (list of {id, claim, criterion, verdict, ours, authors}); :mod:`.report` writes
them (``t2d report``). Each experiment lives in its own module (e.g. :mod:`.demo`), imported by
the package so that it registers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError, unknown_name
from .spec import RunSpec

PROFILES = ("smoke", "quick", "paper")


@dataclass(frozen=True)
class Experiment:
    """A named grid of runs and the aggregation of their results."""

    name: str
    runs: Callable[[str, int], list[RunSpec]]
    aggregate: Callable[[list[dict]], dict]
    description: str = ""
    aliases: tuple[str, ...] = ()

    def specs(self, profile: str, seeds: int) -> list[RunSpec]:
        """The run specs for ``profile`` and ``seeds`` (both validated here)."""
        check_profile(profile)
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ConfigError(f"The 'seeds' parameter of {self.name} must be an int in "
                              f"[1, inf). Got {seeds!r} instead.")
        return self.runs(profile, seeds)


EXPERIMENTS: dict[str, Experiment] = {}
ALIASES: dict[str, str] = {}  # alias -> name (e.g. the authors' "tvo" -> "e1")


def register_experiment(name: str, aggregate: Callable[[list[dict]], dict],
                        description: str = "", aliases: tuple[str, ...] = ()):
    """Decorator: register ``fn(profile, seeds) -> list[RunSpec]`` as experiment ``name``
    (also reachable by each of ``aliases``)."""
    def deco(fn: Callable[[str, int], list[RunSpec]]):
        taken = [a for a in (name, *aliases) if a in ALIASES or (a in EXPERIMENTS and a != name)]
        if taken:
            raise ValueError(f"experiment name or alias {taken[0]!r} is already registered")
        EXPERIMENTS[name] = Experiment(name, fn, aggregate, description or (fn.__doc__ or "")
                                       .strip().splitlines()[0], tuple(aliases))
        ALIASES.update({a: name for a in aliases})
        return fn
    return deco


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name`` or under the alias ``name``."""
    name = ALIASES.get(name, name)
    if name not in EXPERIMENTS:
        raise unknown_name("experiment", name, [*EXPERIMENTS, *ALIASES])
    return EXPERIMENTS[name]


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise unknown_name("profile", profile, PROFILES)
    return profile
