"""What a profile writes: ``profile.json`` (settings, models, rows), ``profile.parquet`` (the
tidy table), ``summary.md`` (a leaderboard and each model's most and least invariant
transforms) and ``figures/``."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from ..io import atomic_write
from .figures import profile_figures
from .table import base_rows, lower_is_invariant, main_metric


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3f}"


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def leaderboard(result) -> str:
    """Models ranked per domain and layer by the mean main metric over transforms, beside the
    untrained reference."""
    metric = main_metric(result)
    ref = {(r["model"], r["layer"], r["domain"], r["transform"]): r["value"]
           for r in base_rows(result, metric, True)}
    groups: dict[tuple, list] = {}
    for r in base_rows(result, metric):
        groups.setdefault((r["domain"], r["layer"], r["model"]), []).append(r)
    rows = []
    for (domain, layer, model), rs in groups.items():
        mean = sum(r["value"] for r in rs) / len(rs)
        refs = [ref.get((model, layer, domain, r["transform"])) for r in rs]
        rmean = sum(refs) / len(refs) if all(v is not None for v in refs) else None
        rows.append([domain, layer, model, _fmt(mean), _fmt(rmean)])
    rows.sort(key=lambda r: (r[0], r[1], float(r[3]) if r[3] != "-" else math.inf)
              if lower_is_invariant(metric) else (r[0], r[1], -float(r[3])))
    return _table(["domain", "layer", "model", f"mean {metric}", "untrained"], rows)


def extremes(result, k: int = 3) -> list[str]:
    """Per model, domain and layer: the ``k`` most and least invariant transforms."""
    metric = main_metric(result)
    groups: dict[tuple, list] = {}
    for r in base_rows(result, metric):
        groups.setdefault((r["model"], r["domain"], r["layer"]), []).append(r)
    lines = []
    for (model, domain, layer), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["value"], reverse=not lower_is_invariant(metric))
        most = ", ".join(f"{r['transform']} {r['value']:.2f}" for r in rs[:k])
        least = ", ".join(f"{r['transform']} {r['value']:.2f}" for r in rs[::-1][:k])
        lines.append(f"- **{model}** on {domain} ({layer}): most invariant to {most}; "
                     f"least to {least}.")
    return lines


def summary_markdown(result) -> str:
    metric = main_metric(result)
    s = result.settings
    direction = "lower = more invariant; 0 invariant, about 1 as far apart as two different " \
        "images" if lower_is_invariant(metric) else "see the metric's definition"
    parts = [
        "# Invariance profile", "",
        f"{len(result.models)} model(s); {len(s['transforms'])} transform(s) on "
        f"{', '.join(s['domains'])}; {s['pairs']} pairs each; metrics {', '.join(s['metrics'])}; "
        f"intervals: {s['interval']}.", "",
        f"Ranked by the mean normalised {metric} over transforms ({direction}); `untrained` is "
        f"the same architecture before training: what it gives for free.", "",
        leaderboard(result), "", "## Most and least invariant", "", *extremes(result), "",
        "## Models", "",
        *[f"- **{m['name']}** ({m['kind']}, {m['input_size']} px, mean {m['mean']}, std "
          f"{m['std']}): representation {m['representation']}; reference: {m['reference']}"
          + (f"; {m['note']}" if m.get("note") else "") for m in result.models],
    ]
    return "\n".join(parts) + "\n"


def write_profile(result, out: str | os.PathLike) -> list[str]:
    """Write every output under ``out`` (created); returns the paths."""
    root = Path(out)
    (root / "figures").mkdir(parents=True, exist_ok=True)
    paths = [atomic_write(root / "profile.json",
                          lambda tmp: Path(tmp).write_text(result.to_json()))]
    buf = io.BytesIO()
    result.to_frame().to_parquet(buf, index=False)
    paths.append(atomic_write(root / "profile.parquet",
                              lambda tmp: Path(tmp).write_bytes(buf.getvalue())))
    paths.append(atomic_write(root / "summary.md",
                              lambda tmp: Path(tmp).write_text(summary_markdown(result))))
    for name, fig in profile_figures(result).items():
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
        paths.append(atomic_write(root / "figures" / f"{name}.png",
                                  lambda tmp, b=png: Path(tmp).write_bytes(b.getvalue())))
    return [str(p) for p in paths]
