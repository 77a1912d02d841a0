"""What the experiments' aggregations share: done runs matched to grid cells, per-seed values,
mean/CI table rows, paired differences, claim rows, figure boilerplate and size descriptions.

Convention: ``values`` maps a key (a tuple naming a cell and a measure) to ``{seed: value}``;
every statistic is computed over seeds, and comparisons of two models on the same data are
paired by seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..engine import RunSpec, spec_hash
from ..engine.stats import mean_ci

C = TypeVar("C")
Values = dict[tuple, dict[int, float]]
CI_COLUMNS = ["seeds", "mean", "ci95_low", "ci95_high"]


def seeds_in(records: Iterable[Mapping]) -> int:
    """Seeds ``0..k-1`` cover the records: ``k`` (the grid to rebuild for matching)."""
    return 1 + max((r["spec"].seed for r in records), default=-1)


def match(cells: Iterable[C], records: Iterable[Mapping], spec_of: Callable[[C], RunSpec]
          ) -> list[tuple[C, Mapping]]:
    """``(cell, record)`` for each grid cell whose run is done (matched by spec hash; a run
    shared by several cells matches each of them)."""
    done = {r["hash"]: r for r in records}
    return [(c, done[h]) for c in cells if (h := spec_hash(spec_of(c))) in done]


def put(values: Values, key: tuple, seed: int, value: float | None) -> None:
    """Record ``value`` under ``key`` for ``seed`` (a missing value is skipped)."""
    if value is not None:
        values.setdefault(key, {})[seed] = value


def ci_row(by_seed: Mapping[int, float], **keys: Any) -> dict:
    """A table row: ``keys``, then seeds, mean and 95% CI over the seeds' values."""
    ci = mean_ci(by_seed.values())
    return {**keys, "seeds": ci.n, "mean": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high}


def paired(values: Values, a: tuple, b: tuple) -> list[float]:
    """Per-seed differences ``values[a] - values[b]`` over the seeds both have, in seed order."""
    va, vb = values.get(a, {}), values.get(b, {})
    return [va[s] - vb[s] for s in sorted(va) if s in vb]


def claim(cid: str, text: str, criterion: str, verdict: str, ours: str, authors: str,
          note: str | None = None) -> dict:
    """One row of a claims table (see :mod:`transforms2d.engine.report`)."""
    return {"id": cid, "claim": text, "criterion": criterion, "verdict": verdict, "note": note,
            "ours": ours, "authors": authors}


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure drawn off-screen by Agg, whatever pyplot's backend."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def seeds_title(title: str, seeds: int, over: str = "") -> str:
    """``"E1: mean over 3 seed(s), 95% CI"`` (``over`` names what else is averaged)."""
    return f"{title}: mean over {over}{seeds} seed(s)" + (
        ", 95% CI" if seeds >= 2 else ", no CI with 1 seed")


def half_width(low: float, high: float) -> float:
    """Half the CI width for an error bar; 0 where the CI is undefined (fewer than 2 seeds)."""
    return 0.0 if math.isnan(low) else (high - low) / 2


def describe_sizes(z: Mapping[str, Any], prefix: str = "") -> str:
    """A profile's sizes in words: model, resolution, pretraining, probes, invariance."""
    parts = [f"{prefix}{z['model']}, {z['image_size']} px, {z['n']} pretraining samples x "
             f"{z['epochs']} epochs, batch {z['batch_size']}"]
    if "n_probe" in z:
        parts.append(f"probe {z['n_probe']} samples x {z['probe_epochs']} epochs, "
                     f"{z['views']} view(s), test {z['n_test']}")
    if "n_inv" in z:
        parts.append(f"invariance on {z['n_inv']} pairs")
    return "; ".join(parts)


def sizes_markdown(profile: str | None, sizes: Mapping[str, Mapping[str, Any]],
                   describe: Callable[[Mapping[str, Any]], str] = describe_sizes) -> str:
    """``Sizes: profile `quick` (...).`` and, below the paper's profile, what was reduced."""
    if profile not in sizes:
        return f"Sizes: profile `{profile}` (unknown to this experiment: no numbers).\n"
    text = f"Sizes: profile `{profile}` ({describe(sizes[profile])}).\n"
    if profile != "paper" and "paper" in sizes:
        text += f"\nReduced from the paper's sizes: {describe(sizes['paper'])}.\n"
    return text
