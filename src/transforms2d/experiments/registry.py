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

    def specs(self, profile: str, seeds: int) -> list[RunSpec]:
        """The run specs for ``profile`` and ``seeds`` (both validated here)."""
        check_profile(profile)
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ConfigError(f"The 'seeds' parameter of {self.name} must be an int in "
                              f"[1, inf). Got {seeds!r} instead.")
        return self.runs(profile, seeds)


EXPERIMENTS: dict[str, Experiment] = {}


def register_experiment(name: str, aggregate: Callable[[list[dict]], dict],
                        description: str = ""):
    """Decorator: register ``fn(profile, seeds) -> list[RunSpec]`` as experiment ``name``."""
    def deco(fn: Callable[[str, int], list[RunSpec]]):
        EXPERIMENTS[name] = Experiment(name, fn, aggregate, description or (fn.__doc__ or "")
                                       .strip().splitlines()[0])
        return fn
    return deco


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise unknown_name("experiment", name, EXPERIMENTS)
    return EXPERIMENTS[name]


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise unknown_name("profile", profile, PROFILES)
    return profile
