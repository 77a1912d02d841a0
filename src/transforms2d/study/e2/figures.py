"""The figures of ``e2``: the 4×4 transfer grid with invariance bars, and the α/β axes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..common import new_figure, seeds_title
from .grid import FACTORS, TASKS, VARIANTS

FACTOR_NAME = {"object": "object", "background": "scene"}


def _cell(df: pd.DataFrame, col: str, **where) -> float:
    sub = df
    for k, v in where.items():
        sub = sub[sub[k] == v]
    return float(sub[col].iloc[0]) if len(sub) else math.nan


def grid_figure(probe: pd.DataFrame, inv: pd.DataFrame, seeds: int, scenes: str) -> Figure:
    """The 4×4 probe accuracies for each placement and every model's invariance (bars with
    their intervals, asymmetric: the bootstrap stays in range)."""
    fig = new_figure((15, 4.2))
    axs = fig.subplots(1, 3)
    for ax, v in zip(axs[:2], VARIANTS):
        m = np.array([[_cell(probe, "mean", variant=v, pretrained_on=a, probed_on=b)
                       for b in TASKS] for a in TASKS])
        im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
        for (i, j), val in np.ndenumerate(m):
            if not math.isnan(val):
                ax.text(j, i, f"{val:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if val < 0.6 else "black")
        ax.set_xticks(range(len(TASKS)), TASKS, fontsize=8)
        ax.set_yticks(range(len(TASKS)), TASKS, fontsize=8)
        ax.set_xlabel("probed on")
        ax.set_ylabel("pretrained on")
        ax.set_title(f"probe accuracy, {v} objects", fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.046)
    ax = axs[2]
    labels = [f"{t}\n{v[:5]}" for v in VARIANTS for t in TASKS]
    for k, f in enumerate(FACTORS):
        rows = [dict(variant=v, pretrained_on=t, invariance_to=FACTOR_NAME[f])
                for v in VARIANTS for t in TASKS]
        means = np.array([_cell(inv, "l2_mean", **w) for w in rows])
        lo = np.array([_cell(inv, "ci95_low", **w) for w in rows])
        hi = np.array([_cell(inv, "ci95_high", **w) for w in rows])
        err = np.nan_to_num(np.stack([means - lo, hi - means]))
        ax.bar([i + (k - 0.5) * 0.4 for i in range(len(labels))], means, 0.4, yerr=err,
               capsize=2, label=f"to the {FACTOR_NAME[f]}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("normalised l2 (lower = more invariant)")
    ax.set_title("invariance of each pretrained model", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(seeds_title(f"E2 on {scenes}", seeds), fontsize=10)
    fig.tight_layout()
    return fig


def axes_figure(axes: pd.DataFrame, probe: pd.DataFrame, seeds: int, scenes: str) -> Figure:
    """Target accuracy (C/C and O/O probes) and object invariance of the C+O/C model against
    the label correlation α and the object availability β, with 95% bands; the C/C-, C+O/O-
    and O/O-pretrained models' accuracies on each target as constant reference lines."""
    fig = new_figure((13, 3.8))
    axs = fig.subplots(1, 3)
    colors = {"C/C probe": "tab:blue", "O/O probe": "tab:orange"}
    for ax, axis, label in ((axs[0], "alpha", "label correlation α"),
                            (axs[1], "beta", "object availability β")):
        for measure, color in colors.items():
            sub = axes[(axes.axis == axis) & (axes.measure == measure)].sort_values("level")
            ax.plot(sub.level, sub["mean"], marker="o", color=color,
                    label=f"C+O/C model, {measure}")
            ax.fill_between(sub.level, sub.ci95_low, sub.ci95_high, color=color, alpha=0.15)
            target = measure.split()[0]
            for ref, style in (("C/C", ":"), ("C+O/O", "--"), ("O/O", "-.")):
                y = _cell(probe, "mean", variant="fixed", pretrained_on=ref, probed_on=target)
                if not math.isnan(y):
                    ax.axhline(y, color=color, ls=style, lw=0.9,
                               label=f"{ref} model on {target}")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(label)
        ax.set_ylabel("probe accuracy (macro)")
        ax.legend(fontsize=6, ncol=2)
    ax = axs[2]
    for axis, color in (("alpha", "tab:green"), ("beta", "tab:red")):
        sub = axes[(axes.axis == axis) & (axes.measure == "object l2")].sort_values("level")
        ax.plot(sub.level, sub["mean"], marker="o", color=color, label=f"vs {axis}")
        ax.fill_between(sub.level, sub.ci95_low, sub.ci95_high, color=color, alpha=0.15)
    ax.set_xlabel("level (α or β)")
    ax.set_ylabel("normalised l2 to the object (lower = more invariant)")
    ax.legend(fontsize=7)
    fig.suptitle(seeds_title(f"E2 axes on {scenes}", seeds), fontsize=10)
    fig.tight_layout()
    return fig
