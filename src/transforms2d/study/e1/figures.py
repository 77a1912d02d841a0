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
    (asymmetric error bars: the bootstrap stays in [0, 1]); last panel, the differences.
    Three panels a row and one legend, so that it reads at page width."""
    ncols = min(3, len(axes) + 1)
    nrows = -(-(len(axes) + 1) // ncols)
    fig = new_figure((4.2 * ncols, 3.6 * nrows + 0.6))
    axs = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    table = table[table.axis.isin(axes)]
    seeds = int(table.seeds.max()) if len(table) else 0
    for i, (ax, axis) in enumerate(zip(axs, axes)):
        _axis_panel(ax, table[table.axis == axis], axis_label(axis), first=i % ncols == 0)
    ax = axs[len(axes)]
    for k, name in enumerate(("disjoint_range", "gap", "same_range")):
        ax.bar([i + (k - 1) * 0.27 for i in range(len(axes))],
               [diffs[a][name] for a in axes], 0.27, label=name.replace("_", " "))
    ax.set_xticks(range(len(axes)), [axis_label(a) for a in axes], rotation=20, fontsize=9,
                  ha="right")
    ax.set_title("performance differences", fontsize=11)
    ax.legend(fontsize=9)
    for extra in axs[len(axes) + 1:]:
        extra.set_visible(False)
    handles, labels = axs[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=2, fontsize=10, frameon=False)
    fig.suptitle(seeds_title(title, seeds), fontsize=12, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    return fig


def _axis_panel(ax, sub: pd.DataFrame, label: str, first: bool) -> None:
    labels = list(dict.fromkeys(sub.value))
    for k, fam in enumerate(FAMILIES):
        f = sub[sub.family == fam].set_index("value").reindex(labels)
        err = np.nan_to_num(np.stack([f["mean"] - f.ci95_low, f.ci95_high - f["mean"]]))
        ax.errorbar([i + (k - 0.5) * 0.1 for i in range(len(labels))], f["mean"],
                    yerr=err, marker="o", capsize=3, label=f"pretrained: {fam}")
    ax.set_xticks(range(len(labels)), labels, rotation=20, fontsize=9)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_title(label, fontsize=11)
    if first:
        ax.set_ylabel("target accuracy (macro)", fontsize=10)


PAPER_EFFECT = {"C1 gap": 0.135, "C3 gap - disjoint range": 0.12, "C4 difference": 0.07,
                "C5 shrink": 0.08}  # docs/protocol.md §6 E1, read off the authors' values
