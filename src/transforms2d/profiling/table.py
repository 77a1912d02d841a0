"""Reading a profile's rows: the metric summaries rank by, rows at the paper's parameters,
transforms in category order."""

from __future__ import annotations

from ..transforms import get_transform

GROUP_ORDER = ("geometric", "photometric", "corruption")


def main_metric(result) -> str:
    """The metric summaries rank by: ``l2`` (the paper's) if measured."""
    mets = result.settings["metrics"]
    return "l2" if "l2" in mets else mets[0]


def lower_is_invariant(metric: str) -> bool:
    return metric == "l2"


def base_rows(result, metric: str, untrained: bool = False) -> list[dict]:
    """Rows at the paper's parameters (no strength level) of ``metric``."""
    return [r for r in result.rows if r["metric"] == metric and r["level"] is None
            and r["untrained"] == untrained]


def ordered_transforms(names) -> list[str]:
    """Transforms grouped by category (geometric, photometric, corruption), order kept."""
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda t: GROUP_ORDER.index(get_transform(t).group)
                  if get_transform(t).group in GROUP_ORDER else len(GROUP_ORDER))
