"""``e4``: invariance mismatch (docs/protocol.md §6 E4; claim C8, §7). The grid is
:mod:`.grid`, the aggregation :mod:`.report`, the figures :mod:`.figures`."""

from ...engine import RunSpec, register_experiment, unique
from ..common import Collected, budget_figure, describe_sizes, sizes_markdown
from ..judging import judge_sensitivity
from .figures import mismatch_figure
from .grid import N_TRANSFORMS, SIZES, Cell, E4Sizes, cells, draw, probe_name
from .report import TOLERANCE, budget_table, c8, collect, grid, pretrain_table, table


def aggregate(records: list[dict], sizes: E4Sizes | None) -> dict:
    """Tables ``e4_transfer`` and ``e4_pretrain``, figure ``e4_mismatch`` and claim C8 from the
    done runs (missing runs leave NaN cells)."""
    cols = collect(records, sizes)
    K = grid(sizes)
    shown = sizes or SIZES["paper"]  # an unknown profile: no runs matched
    col = cols.get(shown.epochs, Collected())
    t = table(K, col)
    md = (f"E4 (docs/protocol.md §6): per seed, 8 transforms drawn in order and 30 objects "
          f"(the first {shown.k} and {shown.classes} used here); the model pretrained with the "
          f"first k transforms is linearly probed on the same objects under the first j "
          f"transforms, for every k and j = 1..{K}. " + sizes_markdown(sizes, SIZES, _describe))
    profile = sizes.profile if sizes else None
    if profile == "smoke":
        md += "\nSmoke sizes: a check of the machinery; the numbers mean nothing.\n"
    elif profile == "quick":
        md += ("\nThe small model learns large transform stacks less well (see `e4_pretrain`: "
               "final pretraining train accuracy by k), so rows with many pretraining transforms "
               "can fall short of the ceiling for lack of training, not only of invariance.\n")
    tables = {"e4_transfer": t, "e4_pretrain": pretrain_table(K, col)}
    figs = {"e4_mismatch": mismatch_figure(t, K)}
    if shown.budgets:
        tables["e4_budget"] = budget_table(cols, K)
        figs["e4_budget"] = budget_figure(tables["e4_budget"], "E4", "accuracy points",
                                          {"C8 worst subset shortfall": TOLERANCE})
        md += ("\nWhat it would take (table and figure `e4_budget`): seed 0's C8 effects when "
               "every model pretrains for other numbers of epochs, beside the lowest "
               "pretraining accuracy.\n")
    claims = judge_sensitivity([c8(col, t, K, 1 / shown.classes)],
                               lambda drop: [c8(col.without(drop), table(K, col.without(drop)), K,
                                                1 / shown.classes)])
    return {"markdown": md, "tables": tables, "figures": figs, "claims": claims}



def _describe(sizes: E4Sizes) -> str:
    return describe_sizes(sizes, f"{sizes.k} transforms, {sizes.classes} objects, ")


@register_experiment("e4", aggregate, aliases=("tm",), paper=True, sizes=SIZES)
def e4(sizes: E4Sizes, seeds: tuple[int, ...]) -> list[RunSpec]:
    """E4 invariance mismatch: pretrain on nested transform sets, probe on every set."""
    return unique(c.spec for c in cells(sizes, seeds))


__all__ = ["N_TRANSFORMS", "SIZES", "Cell", "E4Sizes",
           "aggregate", "cells", "collect", "draw", "e4",
           "probe_name"]
