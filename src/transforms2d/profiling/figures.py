"""The figures of a profile: bars per transform (grouped by category, 95% intervals, the
untrained reference marked), a layer × transform heatmap per model, strength curves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..transforms import get_transform
from .sweeps import STRENGTHS
from .table import base_rows, main_metric, ordered_transforms

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(size) -> Figure:
    """A figure drawn off-screen by Agg (matplotlib is imported on first use)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def _label(metric: str) -> str:
    return f"normalised {metric}" + (" (lower = more invariant)" if metric == "l2" else "")


def bars(result) -> Figure:
    """One panel per domain: a bar per (transform, model) at the first layer of each model."""
    metric = main_metric(result)
    rows = base_rows(result, metric)
    refs = {(r["model"], r["layer"], r["domain"], r["transform"]): r["value"]
            for r in base_rows(result, metric, True)}
    domains = result.settings["domains"]
    ts = ordered_transforms(r["transform"] for r in rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    first = {m: next(r["layer"] for r in rows if r["model"] == m) for m in models}
    fig = _figure((max(6, 0.55 * len(ts) * max(1, len(models)) ** 0.5 + 2), 3.2 * len(domains)))
    axes = np.atleast_1d(fig.subplots(len(domains), 1, squeeze=False)[:, 0])
    width = 0.8 / max(1, len(models))
    for ax, domain in zip(axes, domains):
        for k, m in enumerate(models):
            got = {r["transform"]: r for r in rows if r["model"] == m and r["domain"] == domain
                   and r["layer"] == first[m]}
            xs = np.arange(len(ts)) + (k - (len(models) - 1) / 2) * width
            vals = np.array([got[t]["value"] if t in got else np.nan for t in ts])
            err = np.nan_to_num(np.array([[vals[i] - got[t]["ci_low"], got[t]["ci_high"]
                                           - vals[i]] if t in got else [0, 0]
                                          for i, t in enumerate(ts)]).T)
            ax.bar(xs, np.nan_to_num(vals), width, yerr=err, capsize=1.5, label=m)
            ref = [refs.get((m, first[m], domain, t), np.nan) for t in ts]
            ax.scatter(xs, ref, marker="_", s=90, color="k", zorder=3,
                       label="untrained" if k == 0 and np.isfinite(ref).any() else None)
        ax.set_xticks(range(len(ts)), [f"{t}\n({get_transform(t).group[:5]})" for t in ts],
                      fontsize=7, rotation=90)
        ax.set_ylabel(_label(metric), fontsize=8)
        ax.set_title(f"{domain}: invariance per transform (95% intervals)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def layer_heatmaps(result) -> dict[str, Figure]:
    """Per model with several layers: layer × transform on the first domain."""
    metric = main_metric(result)
    rows = base_rows(result, metric)
    domain = result.settings["domains"][0]
    out = {}
    for k, m in enumerate(dict.fromkeys(r["model"] for r in rows)):
        mine = [r for r in rows if r["model"] == m and r["domain"] == domain]
        layers = list(dict.fromkeys(r["layer"] for r in mine))
        if len(layers) < 2:
            continue
        ts = ordered_transforms(r["transform"] for r in mine)
        grid = np.full((len(layers), len(ts)), np.nan)
        for r in mine:
            grid[layers.index(r["layer"]), ts.index(r["transform"])] = r["value"]
        fig = _figure((0.45 * len(ts) + 3, 0.35 * len(layers) + 2))
        ax = fig.subplots()
        im = ax.imshow(grid, cmap="viridis_r" if metric == "l2" else "viridis", aspect="auto")
        ax.set_xticks(range(len(ts)), ts, rotation=90, fontsize=7)
        ax.set_yticks(range(len(layers)), layers, fontsize=7)
        ax.set_title(f"{m} on {domain}: {_label(metric)} by depth", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8)
        fig.tight_layout()
        out[f"layers_{k + 1}"] = fig
    return out


def strength_curves(result) -> Figure | None:
    """Per transform with a sweep: the main metric against the magnitude, one line per model
    (the untrained reference dashed), on the first domain."""
    metric = main_metric(result)
    rows = [r for r in result.rows if r["metric"] == metric and r["level"] is not None]
    if not rows:
        return None
    domain = result.settings["domains"][0]
    ts = ordered_transforms(r["transform"] for r in rows)
    cols = min(4, len(ts))
    nrows = -(-len(ts) // cols)
    fig = _figure((3.2 * cols, 2.6 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False).ravel())
    for ax, t in zip(axes, ts):
        for (m, untrained) in dict.fromkeys((r["model"], r["untrained"]) for r in rows):
            rs = sorted((r for r in rows if r["transform"] == t and r["model"] == m and
                         r["untrained"] == untrained and r["domain"] == domain),
                        key=lambda r: r["level"])
            rs = [r for r in rs if r["layer"] == rs[0]["layer"]] if rs else rs
            x = [STRENGTHS[t].magnitude(r["level"]) for r in rs]
            y = [r["value"] for r in rs]
            lo = [r["ci_low"] for r in rs]
            hi = [r["ci_high"] for r in rs]
            line = ax.plot(x, y, "--" if untrained else "-o", ms=3,
                           label=f"{m} (untrained)" if untrained else m)[0]
            ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
        ax.set_title(t, fontsize=9)
        ax.set_xlabel(STRENGTHS[t].axis, fontsize=7)
        ax.set_ylabel(metric, fontsize=7)
    for ax in axes[len(ts):]:
        ax.set_axis_off()
    axes[0].legend(fontsize=6)
    fig.suptitle(f"{domain}: invariance against strength (95% intervals)", fontsize=10)
    fig.tight_layout()
    return fig


def profile_figures(result) -> dict[str, Figure]:
    out = {"bars": bars(result), **layer_heatmaps(result)}
    curves = strength_curves(result)
    if curves is not None:
        out["strength"] = curves
    return out
