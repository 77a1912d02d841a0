"""The experiment registry: an experiment is a function ``(profile, seeds) -> [RunSpec]`` plus
an ``aggregate(records) -> dict`` hook that turns stored results into tables (computing
nothing). Profiles change sizes, never logic.

``aggregate`` receives one record per run, in the experiment's order, for the runs that are
done: ``{"hash": str, "spec": RunSpec, "result": dict}``. It returns a dict whose
``"markdown"`` entry becomes ``report.md`` (later: Parquet tables, figures, claim checks).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError, unknown_name
from .spec import InvarianceTarget, ProbeTarget, RunSpec

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


# -- demo: a two-family toy of the paper's question, small enough for tests -------------------
DEMO_SIZES = {  # profile -> sizes; the grid and the logic are the same for all three
    "smoke": dict(model="convnet_xs", image_size=16, n=300, epochs=1, batch_size=64,
                  n_probe=200, probe_epochs=20, views=1, n_inv=100),
    "quick": dict(model="convnet_xs", image_size=16, n=3000, epochs=5, batch_size=128,
                  n_probe=1000, probe_epochs=100, views=2, n_inv=500),
    "paper": dict(model="convnet_s", image_size=32, n=50000, epochs=50, batch_size=512,
                  n_probe=10000, probe_epochs=200, views=2, n_inv=10000),
}
DEMO_TARGET = ("hue", "invert")
DEMO_FAMILIES = {"same": ("hue", "invert"), "disjoint": ("rotate", "blur")}


def _demo_family(spec: RunSpec) -> str:
    return "same" if tuple(spec.source["transforms"]) == DEMO_TARGET else "disjoint"


def demo_aggregate(records: list[dict]) -> dict:
    """Mean probe test accuracy (and invariance) per pretraining family, as Markdown."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(_demo_family(r["spec"]), []).append(r["result"])
    targets = sorted({t for res in records for t in res["result"]["probes"]})
    rows = []
    for fam in DEMO_FAMILIES:
        results = groups.get(fam, [])
        row = {"family": fam, "runs": len(results)}
        for t in targets:
            accs = [res["probes"][t]["test_acc"] for res in results if t in res["probes"]]
            row[f"{t} test_acc"] = statistics.fmean(accs) if accs else None
        inv = [res["invariance"]["target"]["l2"] for res in results
               if "target" in res["invariance"]]
        row["target inv_l2"] = statistics.fmean(inv) if inv else None
        rows.append(row)
    cols = list(rows[0])
    lines = ["# demo: probe accuracy by pretraining family", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join("-" if v is None else f"{v:.4f}" if isinstance(v, float)
                                       else str(v) for v in row.values()) + " |")
    return {"table": rows, "markdown": "\n".join(lines) + "\n"}


@register_experiment("demo", demo_aggregate)
def demo(profile: str, seeds: int) -> list[RunSpec]:
    """Demo (not a paper experiment): pretrain on hue+invert vs rotate+blur, probe hue+invert."""
    z = DEMO_SIZES[profile]
    out = []
    for seed in range(seeds):
        def data(transforms, n, objects=tuple(range(10)), seed=seed):
            return dict(objects=list(objects), transforms=list(transforms), n=n, seed=seed,
                        image_size=z["image_size"])
        probe = dict(epochs=z["probe_epochs"], views=z["views"])
        probes = (ProbeTarget("target", data(DEMO_TARGET, z["n_probe"]),
                              data(DEMO_TARGET, z["n_probe"]), probe=probe),
                  ProbeTarget("plain", data((), z["n_probe"]), data((), z["n_probe"]),
                              probe=probe))
        inv = (InvarianceTarget("target", data(DEMO_TARGET, z["n_inv"]), metrics=("l2", "cos")),)
        for family in DEMO_FAMILIES.values():
            out.append(RunSpec(
                model=z["model"], source=data(family, z["n"], range(10, 20)),
                train=dict(epochs=z["epochs"], batch_size=z["batch_size"]),
                probes=probes, invariance=inv, seed=seed))
    return out
