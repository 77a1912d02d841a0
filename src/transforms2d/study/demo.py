"""``demo``: a two-family toy of the paper's question, small enough for tests, and the worked
example of the aggregation contract (one table, one figure, one claim check; see
:mod:`.report`) that the paper's experiments follow.

Models pretrain on objects 10–19 under the target transformations (``same``: hue + invert) or
under disjoint ones (``disjoint``: rotate + blur), then are probed on objects 0–9 under the
target transformations (``target``) and untransformed (``plain``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..data.dataset import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE
from ..engine import InvarianceTarget, ProbeTarget, RunSpec, register_experiment
from ..reporting.stats import positive_effect
from ..validation import seed_list
from .common import (
    CI_COLUMNS,
    ci_row,
    claim,
    half_width,
    new_figure,
    paired,
    probe_settings,
    put,
    seeds_title,
)
from .sizes import Sizes, by_profile, size


@dataclass(frozen=True, kw_only=True)
class DemoSizes(Sizes):
    """The demo's sizes: image side, probe samples (train and test each) and views,
    invariance pairs."""

    image_size: int = size(min=MIN_IMAGE_SIZE, max=MAX_IMAGE_SIZE)
    n_probe: int = size(min=1)
    views: int = size(min=1)
    n_inv: int = size(min=2)


SIZES = by_profile(DemoSizes, {  # profile -> sizes; the grid and the logic are the same
    "smoke": dict(model="convnet_xs", image_size=16, n=300, epochs=1, batch_size=64,
                  n_probe=200, views=1, n_inv=100),
    "quick": dict(model="convnet_xs", image_size=16, n=3000, epochs=5, batch_size=128,
                  n_probe=1000, views=2, n_inv=500),
    "paper": dict(model="convnet_s", image_size=32, n=50000, epochs=50, batch_size=512,
                  n_probe=10000, views=2, n_inv=10000),
})
TARGET = ("hue", "invert")
FAMILIES = {"same": ("hue", "invert"), "disjoint": ("rotate", "blur")}
PROBES = ("target", "plain")


def family(spec: RunSpec) -> str:
    return "same" if tuple(spec.source["transforms"]) == TARGET else "disjoint"


def _values(records: list[dict]) -> dict[tuple[str, str], dict[int, float]]:
    """``(family, measure) -> {seed: value}`` for each probe's test accuracy and invariance."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    for r in records:
        fam, res, seed = family(r["spec"]), r["result"], r["spec"].seed
        for t, p in res["probes"].items():
            put(out, (fam, f"probe {t} test_acc"), seed, p["test_acc"])
        for t, m in res["invariance"].items():
            put(out, (fam, f"invariance {t} l2"), seed, m["l2"])
    return out


def _table(values: dict[tuple[str, str], dict[int, float]]) -> pd.DataFrame:
    rows = [ci_row(by_seed, family=fam, measure=measure)
            for (fam, measure), by_seed in values.items()]
    order = {f: i for i, f in enumerate(FAMILIES)}
    rows.sort(key=lambda r: (r["measure"], order[r["family"]]))
    return pd.DataFrame(rows, columns=["family", "measure", *CI_COLUMNS])


def _figure(table):
    """Grouped bars: mean probe test accuracy per family, 95% CI error bars over seeds."""
    fig = new_figure((5, 3.2))
    ax = fig.add_subplot()
    width = 0.8 / len(FAMILIES)
    for i, fam in enumerate(FAMILIES):
        means, errs = [], []
        for probe in PROBES:
            row = table[(table.family == fam) & (table.measure == f"probe {probe} test_acc")]
            m, lo, hi = (row[c].iloc[0] if len(row) else math.nan
                         for c in ("mean", "ci95_low", "ci95_high"))
            means.append(m)
            errs.append(half_width(lo, hi))
        ax.bar([j + (i - 0.5) * width for j in range(len(PROBES))], means, width,
               yerr=errs, capsize=4, label=f"pretrained: {fam}")
    seeds = int(table.seeds.max()) if len(table) else 0
    ax.set_xticks(range(len(PROBES)), [f"probe: {p}" for p in PROBES])
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy (macro)")
    ax.set_title(seeds_title("demo", seeds), fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _claim(values: dict[tuple[str, str], dict[int, float]]) -> dict:
    """D1, the demo's analogue of C1: same-family models transfer better to the target."""
    gaps = paired(values, ("same", "probe target test_acc"),
                  ("disjoint", "probe target test_acc"))
    verdict, note, ci = positive_effect(gaps, min_n=3)
    return claim("D1", "Pretraining on the target transformations transfers better to them "
                       "than pretraining on disjoint ones (demo analogue of C1).",
                 "mean over seeds of (same - disjoint) target-probe test accuracy > 0, with a "
                 "interval over >= 3 seeds that excludes 0",
                 verdict, f"gap {ci}" + (f", n={ci.n}" if ci.n else ""),
                 "n/a (not a paper experiment)", note)


def aggregate(records: list[dict], sizes: DemoSizes | None = None) -> dict:
    """Table ``probe_accuracy``, figure ``probe_accuracy`` and claim D1 from the done runs."""
    values = _values(records)
    table = _table(values)
    return {"markdown": "Demo (not a paper experiment): pretrain on hue+invert (`same`) or "
                        "rotate+blur (`disjoint`), probe on hue+invert (`target`) and on "
                        "untransformed images (`plain`). Mean and 95% CI over seeds.\n",
            "tables": {"probe_accuracy": table},
            "figures": {"probe_accuracy": _figure(table)},
            "claims": [_claim(values)]}


@register_experiment("demo", aggregate, sizes=SIZES)
def demo(sizes: DemoSizes, seeds: int | Sequence[int]) -> list[RunSpec]:
    """Demo (not a paper experiment): pretrain on hue+invert vs rotate+blur, probe hue+invert."""
    out = []
    for seed in seed_list(seeds):
        def data(transforms, n, objects=tuple(range(10)), seed=seed):
            return dict(objects=list(objects), transforms=list(transforms), n=n, seed=seed,
                        image_size=sizes.image_size)
        probe = probe_settings(sizes)
        probes = (ProbeTarget("target", data(TARGET, sizes.n_probe),
                              data(TARGET, sizes.n_probe), probe=probe),
                  ProbeTarget("plain", data((), sizes.n_probe), data((), sizes.n_probe),
                              probe=probe))
        inv = (InvarianceTarget("target", data(TARGET, sizes.n_inv), metrics=("l2", "cos")),)
        for fam in FAMILIES.values():
            out.append(RunSpec(
                model=sizes.model, source=data(fam, sizes.n, range(10, 20)),
                train=sizes.train_sizes(),
                probes=probes, invariance=inv, seed=seed))
    return out
