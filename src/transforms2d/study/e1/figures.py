"""The figures of ``e1``: accuracy along each axis with the performance differences, and the
claims' effects against the training budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..common import new_figure, seeds_title
from .grid import AXES, AXIS_LABEL, CIFAR, FAMILIES


def axis_label(axis: str) -> str:
    name, _, a = axis.rpartition(":")
    return f"{CIFAR[name]}: {AXIS_LABEL[a]}" if name else AXIS_LABEL[a]


def transfer_figure(table: pd.DataFrame, diffs: dict, axes=AXES, title: str = "E1") -> Figure:
    """Per axis, the same and disjoint families' target accuracy with 95% intervals
    (asymmetric error bars: the bootstrap stays in [0, 1]); last panel, the differences."""
    fig = new_figure((4 * (len(axes) + 1), 3.4))
    axs = fig.subplots(1, len(axes) + 1)
    table = table[table.axis.isin(axes)]
    seeds = int(table.seeds.max()) if len(table) else 0
    for ax, axis in zip(axs, axes):
        sub = table[table.axis == axis]
        labels = list(dict.fromkeys(sub.value))
        for k, fam in enumerate(FAMILIES):
            f = sub[sub.family == fam].set_index("value").reindex(labels)
            err = np.nan_to_num(np.stack([f["mean"] - f.ci95_low, f.ci95_high - f["mean"]]))
            ax.errorbar([i + (k - 0.5) * 0.1 for i in range(len(labels))], f["mean"],
                        yerr=err, marker="o", capsize=3, label=f"pretrained: {fam}")
        ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        ax.set_ylim(0, 1.02)
        ax.set_title(axis_label(axis), fontsize=10)
        ax.set_ylabel("target transfer accuracy (macro)")
        ax.legend(fontsize=7)
    ax = axs[-1]
    names = ("disjoint_range", "gap", "same_range")
    for k, name in enumerate(names):
        ax.bar([i + (k - 1) * 0.27 for i in range(len(axes))],
               [diffs[a][name] for a in axes], 0.27, label=name.replace("_", " "))
    ax.set_xticks(range(len(axes)), [axis_label(a) for a in axes], rotation=30, fontsize=8)
    ax.set_title("performance differences", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(seeds_title(title, seeds), fontsize=11)
    fig.tight_layout()
    return fig


PAPER_EFFECT = {"C1 gap": 0.135, "C3 gap - disjoint range": 0.12, "C4 difference": 0.07,
                "C5 shrink": 0.08}  # docs/protocol.md §6 E1, read off the authors' values
