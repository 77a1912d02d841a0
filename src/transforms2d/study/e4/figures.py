"""The figures of ``e4``: transfer against the number of target transforms, the k × j grid,
and the effect against training budget."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from ..common import new_figure, seeds_title


def mismatch_figure(table: pd.DataFrame, K: int) -> Figure:
    """Left: accuracy vs target transforms ``j``, one line per ``k``, 95% CI bands.
    Right: the mean ``k × j`` grid as a heat map."""
    fig = new_figure((11, 4.2))
    ax, hm = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.3, 1)})
    cmap = colormaps["viridis"]
    seeds = int(table.seeds.max()) if len(table) else 0
    for k in range(1, K + 1):
        f = table[table.pretrain_k == k].sort_values("target_j")
        color = cmap((k - 1) / max(K - 1, 1))
        ax.plot(f.target_j, f["mean"], marker="o", ms=3, color=color, label=f"k = {k}")
        ax.fill_between(f.target_j, f.ci95_low, f.ci95_high, color=color, alpha=0.15, lw=0)
    ax.set_xticks(range(1, K + 1))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("number of target transforms j")
    ax.set_ylabel("transfer accuracy (macro, linear probe)")
    ax.legend(title="pretraining transforms", fontsize=7, title_fontsize=7, ncol=2)
    grid = np.full((K, K), np.nan)
    for row in table.itertuples(index=False):
        grid[row.pretrain_k - 1, row.target_j - 1] = row.mean
    im = hm.imshow(grid, origin="lower", vmin=0, vmax=1, cmap="viridis",
                   extent=(0.5, K + 0.5, 0.5, K + 0.5))
    for (k, j), v in np.ndenumerate(grid):
        if not math.isnan(v):
            hm.text(j + 1, k + 1, f"{v:.2f}", ha="center", va="center", fontsize=6,
                    color="black" if v > 0.6 else "white")
    hm.plot([0.5, K + 0.5], [0.5, K + 0.5], color="white", lw=0.8, ls="--")
    hm.set_xticks(range(1, K + 1))
    hm.set_yticks(range(1, K + 1))
    hm.set_xlabel("number of target transforms j")
    hm.set_ylabel("number of pretraining transforms k")
    hm.set_title("mean accuracy (on and above the diagonal: target ⊆ pretraining)", fontsize=8)
    fig.colorbar(im, ax=hm, fraction=0.046)
    fig.suptitle(seeds_title("E4", seeds), fontsize=11)
    fig.tight_layout()
    return fig
