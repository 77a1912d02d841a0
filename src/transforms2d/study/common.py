"""What the experiments' aggregations share: done runs matched to grid cells, per-seed values
and the runs behind them, mean/CI table rows, paired differences, claim rows with their
preconditions, figure boilerplate and size descriptions.

Convention: ``values`` maps a key (a tuple naming a cell and a measure) to ``{seed: value}``;
every criterion is reduced to one value per seed, whose interval is Student-t
(:mod:`transforms2d.reporting.stats`); comparisons of two models on the same data are paired by
seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..engine import RunSpec, spec_hash
from ..engine.rehearse import as_run
from ..reporting.stats import METHOD, mean_ci
from ..reporting.verdicts import NOT_RUN, direction
from . import preconditions as pre
from .judging import Basis, basis

C = TypeVar("C")
PROBE_SEED_OFFSET = 10_000  # probe and invariance data use their own rendering seeds
Values = dict[tuple, dict[int, float]]
CI_COLUMNS = ["seeds", "mean", "ci95_low", "ci95_high"]


def seeds_in(records: Iterable[Mapping]) -> tuple[int, ...]:
    """The seeds of the records, sorted (the grid to rebuild for matching); ``(0,)`` for
    none, so that an empty folder still builds its grid."""
    return tuple(sorted({r["spec"].seed for r in records})) or (0,)


def match(cells: Iterable[C], records: Iterable[Mapping], spec_of: Callable[[C], RunSpec]
          ) -> list[tuple[C, Mapping]]:
    """``(cell, record)`` for each grid cell whose run is done (matched by spec hash; a run
    shared by several cells matches each of them). In a rehearsal's report a cell matches
    the rehearsal of its spec (:func:`~transforms2d.engine.rehearse.as_run`)."""
    done = {r["hash"]: r for r in records}
    return [(c, done[h]) for c in cells if (h := spec_hash(as_run(spec_of(c)))) in done]


def put(values: Values, key: tuple, seed: int, value: float | None) -> None:
    """Record ``value`` under ``key`` for ``seed`` (a missing value is skipped)."""
    if value is not None:
        values.setdefault(key, {})[seed] = value


class Collected:
    """Per-seed values of an experiment's cells (``values``, as :data:`Values`) and, for each
    value, the run record and probe it came from, so that a claim can check the preconditions
    of exactly the runs it compares."""

    def __init__(self) -> None:
        self.values: Values = {}
        self.sources: dict[tuple, dict[int, tuple[Mapping, str | None]]] = {}

    def put(self, key: tuple, seed: int, value: float | None, record: Mapping,
            probe: str | None = None) -> None:
        """Record ``value`` (skipped if missing) of ``record`` (read from ``probe``, if any)."""
        if value is not None:
            put(self.values, key, seed, value)
            self.sources.setdefault(key, {})[seed] = (record, probe)

    def get(self, key: tuple) -> dict[int, float]:
        return self.values.get(key, {})

    def runs(self, keys: Iterable[tuple]) -> list[Mapping]:
        return [r for k in keys for r, _ in self.sources.get(k, {}).values()]

    def probes(self, keys: Iterable[tuple]) -> list[tuple[Mapping, str]]:
        return [(r, p) for k in keys for r, p in self.sources.get(k, {}).values() if p]

    def seeds(self, keys: Iterable[tuple]) -> int:
        """The fewest seeds any of ``keys`` has (0 if one has none)."""
        return min((len(self.get(k)) for k in keys), default=0)

    def headroom(self, keys: Iterable[tuple], measure: str, floor: float,
                 ceiling: float | None = 1.0) -> pre.Check:
        """Whether the measure of the cells ``keys`` can move (:func:`~.preconditions.headroom`;
        an accuracy by default: ``floor`` its chance level, ceiling 1)."""
        return pre.headroom(measure, {k: self.get(k) for k in keys}, floor, ceiling)

    def basis(self, keys: Iterable[tuple], cid: str, **supplied: pre.Check) -> Basis:
        """The preconditions of claim ``cid`` comparing the cells ``keys``, as the claim
        registry lists them (:func:`~.judging.basis`; ``supplied``: its ``headroom`` and other
        checks only the experiment computes)."""
        keys = list(keys)
        seeds = {s for k in keys for s in self.get(k)}
        return basis(cid, self.runs(keys), self.probes(keys), seeds, self.seeds(keys),
                     **supplied)

    def without(self, seeds: Iterable[int]) -> Collected:
        """The same cells without ``seeds`` (a claim recomputed without them)."""
        drop = set(seeds)
        out = Collected()
        for key, by_seed in self.sources.items():
            for seed, (record, probe) in by_seed.items():
                if seed not in drop:
                    out.put(key, seed, self.values[key][seed], record, probe)
        return out


def ci_row(by_seed: Mapping[int, float], **keys: Any) -> dict:
    """A table row: ``keys``, then seeds, mean and 95% CI over the seeds' values."""
    ci = mean_ci(by_seed.values())
    return {**keys, "seeds": ci.n, "mean": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high}


def paired(values: Values, a: tuple, b: tuple) -> list[float]:
    """Per-seed differences ``values[a] - values[b]`` over the seeds both have, in seed order."""
    va, vb = values.get(a, {}), values.get(b, {})
    return [va[s] - vb[s] for s in sorted(va) if s in vb]


def claim(cid: str, text: str, criterion: str, verdict: str, ours: str, authors: str,
          note: str | None = None, basis: Basis | None = None, bound_failed: bool = False
          ) -> dict:
    """One row of a claims table (see :mod:`transforms2d.reporting.report`). With ``basis``
    (its preconditions, :func:`~.judging.basis`) the verdict becomes *not a fair test* unless
    all are met (:func:`~transforms2d.study.preconditions.judge`; the sensitivity rule may
    restore it: :func:`~.judging.judge_sensitivity`); ``bound_failed``: every failing part of
    the criterion is a bound exceeded in the paper's direction (its direction word)."""
    basis = basis or Basis([])
    if verdict == NOT_RUN and not note:
        note = "too few finished runs for the criterion (see the preconditions)"
    alone = verdict
    verdict, note = pre.judge(verdict, note, basis.checks)
    return {"id": cid, "claim": text, "criterion": f"{criterion} (intervals: 95% {METHOD})",
            "verdict": verdict, "criterion_verdict": alone,
            "direction": direction(alone, bound_failed), "note": note, "ours": ours,
            "authors": authors, "held_out": basis.held_out,
            "preconditions": [c.to_dict() for c in basis.checks],
            "below": [t.label() for t in basis.below],
            "below_seeds": sorted({t.seed for t in basis.below}),
            "compared_seeds": list(basis.seeds)}


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure drawn off-screen by Agg, whatever pyplot's backend."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def budget_figure(budget, title: str, ylabel: str,
                  references: Mapping[str, float] | None = None) -> Figure:
    """One seed's effects against the pretraining epochs (each column of ``budget`` but
    ``epochs`` and ``min_train_acc``; a ``references`` value, e.g. the paper's, as a dashed
    line of the same colour), and the lowest pretraining accuracy at each budget against the
    threshold a fair test needs."""
    fig = new_figure((10, 3.6))
    ax, acc = fig.subplots(1, 2)
    if not len(budget) or not budget.drop(columns="epochs").notna().any().any():
        for a in (ax, acc):  # nothing finished yet: a log axis of no points cannot be drawn
            a.text(0.5, 0.5, "no finished budget runs yet", ha="center", va="center")
            a.set_axis_off()
        fig.suptitle(f"{title}: what it would take (one seed)", fontsize=11)
        return fig
    effects = [c for c in budget.columns if c not in ("epochs", "min_train_acc")
               and budget[c].notna().any()]
    if not effects:  # the accuracies are in, no effect has both of its runs yet
        ax.text(0.5, 0.5, "no effect computable yet", ha="center", va="center",
                transform=ax.transAxes)
    for i, name in enumerate(effects):
        sub = budget.dropna(subset=[name])
        ax.plot(sub.epochs, sub[name], marker="o", color=f"C{i}", label=name)
        if references and name in references:
            ax.axhline(references[name], color=f"C{i}", ls="--", lw=0.8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("pretraining epochs (seed 0)")
    ax.set_ylabel(ylabel)
    ax.set_title("effects vs training budget" + (" (dashed: reference)" if references
                                                 else ""), fontsize=9)
    if effects:
        ax.legend(fontsize=6)
    acc.plot(budget.epochs, budget.min_train_acc, marker="o", color="k")
    acc.axhline(pre.MIN_TRAIN_ACC, color="r", ls="--", lw=0.8, label="fair-test threshold")
    acc.set_ylim(0, 1.02)
    acc.set_xlabel("pretraining epochs (seed 0)")
    acc.set_ylabel("lowest pretraining training accuracy")
    acc.legend(fontsize=7)
    for a in (ax, acc) if effects else (acc,):  # a log axis needs points
        a.set_xscale("log", base=2)
    fig.suptitle(f"{title}: what it would take (one seed)", fontsize=11)
    fig.tight_layout()
    return fig


def seeds_title(title: str, seeds: int, over: str = "") -> str:
    """``"E1: mean over 3 seed(s), 95% CI"`` (``over`` names what else is averaged)."""
    return f"{title}: mean over {over}{seeds} seed(s)" + (
        ", 95% CI" if seeds >= 2 else ", no CI with 1 seed")


def half_width(low: float, high: float) -> float:
    """Half the CI width for an error bar; 0 where the CI is undefined (fewer than 2 seeds)."""
    return 0.0 if math.isnan(low) else (high - low) / 2


def probe_settings(sizes: Any) -> dict[str, Any]:
    """A profile's probe settings (``ProbeConfig`` fields of every probe target): the L-BFGS
    probe, solved to optimality, on ``sizes.views`` cached views (docs/protocol.md,
    "Restatements")."""
    return {"solver": "lbfgs", "views": sizes.views}


def describe_sizes(sizes: Any, prefix: str = "") -> str:
    """A profile's sizes in words: model, resolution, pretraining, probes, invariance."""
    parts = [f"{prefix}{sizes.model}, {sizes.image_size} px, {sizes.n} pretraining samples x "
             f"{sizes.epochs} epochs, batch {sizes.batch_size}"]
    if hasattr(sizes, "n_probe"):
        parts.append(f"L-BFGS probe on {sizes.n_probe} samples x {sizes.views} view(s), test "
                     f"{sizes.n_test}")
    if hasattr(sizes, "n_inv"):
        parts.append(f"invariance on {sizes.n_inv} pairs")
    return "; ".join(parts)


def sizes_markdown(sizes: Any, table: Mapping[str, Any],
                   describe: Callable[[Any], str] = describe_sizes) -> str:
    """``Sizes: profile `quick` (...).`` (``sizes`` as the runs had them, overrides included;
    ``None``: an unknown profile) and, below the paper's profile, what was reduced."""
    if sizes is None:
        return "Sizes: the folder's profile is unknown to this experiment (no numbers).\n"
    text = f"Sizes: profile `{sizes.profile}` ({describe(sizes)}).\n"
    if sizes.profile != "paper" and "paper" in table:
        text += f"\nReduced from the paper's sizes: {describe(table['paper'])}.\n"
    return text
