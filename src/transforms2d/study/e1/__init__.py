"""``e1``: invariance versus other factors (docs/protocol.md §6 E1; claims C1–C5, §7). The grid
is :mod:`.grid`, the aggregation :mod:`.report`, the figures :mod:`.figures`."""

import pandas as pd

from ...engine import RunSpec, register_experiment, unique
from ..common import Collected, budget_figure, describe_sizes, sizes_markdown
from ..judging import judge_sensitivity
from .figures import PAPER_EFFECT, transfer_figure
from .grid import (
    AXES,
    CIFAR,
    CIFAR_AXES,
    CIFAR_MISSING,
    CIFAR_SIZES,
    FAMILIES,
    N_TARGET,
    SIZES,
    Cell,
    E1Sizes,
    available_cifar,
    cells,
    cifar_draw,
    draw,
    finetune_name,
)
from .report import budget_table, cifar_claim, cifar_present, claims, collect, differences, table


def aggregate(records: list[dict], sizes: E1Sizes | None) -> dict:
    """Tables ``e1_transfer`` and ``e1_differences``, figure ``e1_transfer`` and claims C1–C5;
    with budget cells the table and figure ``e1_budget``; with CIFAR results also their rows,
    figure ``e1_cifar`` and one check per dataset."""
    col = collect(records, sizes)
    shown = sizes or SIZES["paper"]  # an unknown profile: no runs matched
    t = table(sizes, col)
    diffs = differences(t)
    present = cifar_present(col)
    cifar_axes = [f"{n}:{a}" for n in present for a in CIFAR_AXES]
    diffs_c = differences(t, cifar_axes)
    diff_table = pd.DataFrame([{"axis": a, **{**diffs, **diffs_c}[a]}
                               for a in (*AXES, *cifar_axes)],
                              columns=["axis", "disjoint_range", "gap", "same_range"])
    k = shown.n_target
    md = (f"E1 (docs/protocol.md §6): target task = {k} target objects under the seed's "
          f"target transforms, linear probe on frozen features; `same` models pretrain with the "
          f"target transforms, `disjoint` with the disjoint ones, by default on the {k} other "
          f"objects. Axes varied one at a time. "
          + sizes_markdown(sizes, SIZES, _describe) + "\n" + cifar_markdown(sizes, present))
    tables = {"e1_transfer": t, "e1_differences": diff_table}
    figures = {"e1_transfer": transfer_figure(t, diffs)}
    if shown.budgets:
        tables["e1_budget"] = budget_table(col, shown)
        figures["e1_budget"] = budget_figure(tables["e1_budget"], "E1", "effect (accuracy points)",
                                             PAPER_EFFECT)
        md += ("\nWhat it would take (table and figure `e1_budget`): seed 0's effects when the "
               "claims' models pretrain for other numbers of epochs, beside the lowest "
               "pretraining accuracy at each budget.\n")
    if present:
        figures["e1_cifar"] = transfer_figure(t, diffs_c, cifar_axes, "E1 CIFAR variant")
    return {"markdown": md, "tables": tables, "figures": figures,
            "claims": judge_sensitivity(all_claims(col, sizes, shown),
                                        lambda drop: all_claims(col.without(drop), sizes, shown))}


def all_claims(col: Collected, sizes: E1Sizes | None, shown: E1Sizes) -> list[dict]:
    """C1–C5 and one check per CIFAR dataset with results, from ``col``."""
    t = table(sizes, col)
    return claims(col, differences(t), shown) + [cifar_claim(n, col, t)
                                                 for n in cifar_present(col)]


def _describe(sizes: E1Sizes) -> str:
    return describe_sizes(sizes, f"{sizes.n_target} + {sizes.n_target} objects, ")


def cifar_markdown(sizes: E1Sizes | None, present: list[str]) -> str:
    cifar = sizes.cifar if sizes else None
    text = []
    if present:
        text.append(
            f"CIFAR variant ({', '.join(CIFAR[n] for n in present)}): the seed's target and "
            f"disjoint transforms on whole CIFAR images; target task = half of the classes "
            f"(5 of CIFAR-10, 50 of CIFAR-100, seeded order), models pretrain by default on the "
            f"other half; subset = a third of the target classes, superset = all classes. "
            f"Pretraining samples are totals over the default classes, kept per class on the "
            f"class-relationship axis. Table rows `<dataset>:<axis>`, figure `e1_cifar`, check "
            f"`C1-C3 <dataset>`." + (f" Sizes: {cifar.model}, {cifar.n} pretraining samples x "
                                     f"{cifar.epochs} epochs, batch {cifar.batch_size}; probe "
                                     f"{cifar.n_probe} samples (L-BFGS), "
                                     f"test {cifar.n_test}." if cifar else ""))
    missing = [n for n in CIFAR if n not in present]
    found = available_cifar()
    if len(missing) == len(CIFAR) and not found:
        text.append(f"CIFAR-10/100 variant: {CIFAR_MISSING}.")
    else:
        text += [f"{CIFAR[n]} variant: " + ("no finished runs yet." if n in found else
                                             f"{CIFAR_MISSING}.") for n in missing]
    return "\n".join(text) + "\n"



@register_experiment("e1", aggregate, aliases=("tvo",), paper=True, sizes=SIZES)
def e1(sizes: E1Sizes, seeds: tuple[int, ...]) -> list[RunSpec]:
    """E1 invariance vs other factors: same vs disjoint transforms over four axes."""
    return unique(c.spec for c in cells(sizes, seeds))


__all__ = ["AXES", "CIFAR", "CIFAR_AXES", "CIFAR_SIZES", "FAMILIES", "N_TARGET", "SIZES", "Cell",
           "E1Sizes",
           "aggregate", "available_cifar", "cells", "cifar_draw", "collect", "draw", "e1",
           "finetune_name"]
