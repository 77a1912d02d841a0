"""The figures of ``e3``: the transform matrix, Same / Other / None per domain, and the
effect against training budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..common import new_figure, seeds_title
from .grid import KINDS
from .report import ROLES


def figures(summary: pd.DataFrame, matrix: pd.DataFrame, ts: list[str]) -> dict[str, Figure]:
    """``e3_heatmap`` (training × measured transform, in domain) and ``e3_summary`` (Same /
    Other / None per domain with 95% intervals and the authors' values)."""
    heat = new_figure((13, 6.2))
    for ax, kind in zip(heat.subplots(1, len(KINDS)), KINDS):
        sub = matrix[(matrix.kind == kind) & (matrix.domain == "id")]
        if sub.empty or not ts:  # nothing finished yet: an empty image would be singular
            ax.text(0.5, 0.5, f"{kind}: no finished runs", ha="center", va="center")
            ax.set_axis_off()
            continue
        im = ax.imshow(sub[ts].to_numpy(float), vmin=0, vmax=1, cmap="viridis_r")
        ax.set_xticks(range(len(ts)), ts, rotation=90, fontsize=7)
        ax.set_yticks(range(len(sub)), list(sub.trained), fontsize=7)
        ax.set_xlabel("measured transform")
        ax.set_ylabel("training transform")
        ax.set_title(f"{kind} models, in-domain normalised l2 (lower = more invariant)",
                     fontsize=9)
        heat.colorbar(im, ax=ax, shrink=0.8)
    heat.tight_layout()

    bars = new_figure((12, 3.8))
    for ax, kind in zip(bars.subplots(1, len(KINDS)), KINDS):
        sub = summary[summary.kind == kind].reset_index(drop=True)
        for k, role in enumerate(ROLES):
            xs = [i + (k - 1) * 0.27 for i in range(len(sub))]
            err = np.nan_to_num(np.stack([sub[role] - sub[f"{role}_low"],
                                          sub[f"{role}_high"] - sub[role]]))
            ax.bar(xs, sub[role].fillna(0), 0.27, yerr=err, capsize=2, label=role.title())
            ax.scatter(xs, sub[f"authors_{role}"], marker="x", color="k", s=14, zorder=3,
                       label="authors (ResNet-18)" if k == 0 else None)
        labels = [d + ("\n(not run)" if n else "") for d, n in zip(sub.domain, sub.note)]
        ax.set_xticks(range(len(sub)), labels, fontsize=8)
        ax.set_ylabel("normalised l2 (lower = more invariant)")
        ax.set_title(f"{kind} models: invariance to the measured τ", fontsize=10)
        ax.legend(fontsize=7)
    seeds = int(summary.seeds.max()) if len(summary) else 0
    bars.suptitle(seeds_title("E3", seeds, over="τ and "), fontsize=11)
    bars.tight_layout()
    return {"e3_heatmap": heat, "e3_summary": bars}
