"""``e1``: invariance versus other factors (docs/protocol.md §6 E1; claims C1–C5, §7). The grid
is :mod:`.grid`, the aggregation :mod:`.report`, the figures :mod:`.figures`."""

import pandas as pd

from ...engine import RunSpec, register_experiment, unique
from ..common import budget_figure, describe_sizes, sizes_markdown
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
    available_cifar,
    cells,
    cifar_draw,
    draw,
    finetune_name,
)
from .report import budget_table, cifar_claim, cifar_present, claims, collect, differences, table


def aggregate(records: list[dict], profile: str | None) -> dict:
    """Tables ``e1_transfer`` and ``e1_differences``, figure ``e1_transfer`` and claims C1–C5;
    with budget cells the table and figure ``e1_budget``; with CIFAR results also their rows,
    figure ``e1_cifar`` and one check per dataset."""
    col = collect(records, profile)
    z = SIZES.get(profile, SIZES["paper"])
    t = table(profile, col)
    diffs = differences(t)
    present = cifar_present(col)
    cifar_axes = [f"{n}:{a}" for n in present for a in CIFAR_AXES]
    diffs_c = differences(t, cifar_axes)
    diff_table = pd.DataFrame([{"axis": a, **{**diffs, **diffs_c}[a]}
                               for a in (*AXES, *cifar_axes)],
                              columns=["axis", "disjoint_range", "gap", "same_range"])
    k = z["n_target"]
    md = (f"E1 (docs/protocol.md §6): target task = {k} target objects under the seed's "
          f"target transforms, linear probe on frozen features; `same` models pretrain with the "
          f"target transforms, `disjoint` with the disjoint ones, by default on the {k} other "
          f"objects. Axes varied one at a time. "
          + sizes_markdown(profile, SIZES, _describe) + "\n" + cifar_markdown(profile, present))
    tables = {"e1_transfer": t, "e1_differences": diff_table}
    figures = {"e1_transfer": transfer_figure(t, diffs)}
    if z.get("budgets"):
        tables["e1_budget"] = budget_table(col, z)
        figures["e1_budget"] = budget_figure(tables["e1_budget"], "E1", "effect (accuracy points)",
                                             PAPER_EFFECT)
        md += ("\nWhat it would take (table and figure `e1_budget`): seed 0's effects when the "
               "claims' models pretrain for other numbers of epochs, beside the lowest "
               "pretraining accuracy at each budget.\n")
    if present:
        figures["e1_cifar"] = transfer_figure(t, diffs_c, cifar_axes, "E1 CIFAR variant")
    return {"markdown": md, "tables": tables, "figures": figures,
            "claims": claims(col, diffs, z) + [cifar_claim(n, col, t) for n in present]}


def _describe(z: dict) -> str:
    return describe_sizes(z, f"{z['n_target']} + {z['n_target']} objects, ")


def cifar_markdown(profile: str | None, present: list[str]) -> str:
    zc = CIFAR_SIZES.get(profile)
    text = []
    if present:
        text.append(
            f"CIFAR variant ({', '.join(CIFAR[n] for n in present)}): the seed's target and "
            f"disjoint transforms on whole CIFAR images; target task = half of the classes "
            f"(5 of CIFAR-10, 50 of CIFAR-100, seeded order), models pretrain by default on the "
            f"other half; subset = a third of the target classes, superset = all classes. "
            f"Pretraining samples are totals over the default classes, kept per class on the "
            f"class-relationship axis. Table rows `<dataset>:<axis>`, figure `e1_cifar`, check "
            f"`C1-C3 <dataset>`." + (f" Sizes: {zc['model']}, {zc['n']} pretraining samples x "
                                     f"{zc['epochs']} epochs, batch {zc['batch_size']}; probe "
                                     f"{zc['n_probe']} samples (L-BFGS), "
                                     f"test {zc['n_test']}." if zc else ""))
    missing = [n for n in CIFAR if n not in present]
    found = available_cifar()
    if len(missing) == len(CIFAR) and not found:
        text.append(f"CIFAR-10/100 variant: {CIFAR_MISSING}.")
    else:
        text += [f"{CIFAR[n]} variant: " + ("no finished runs yet." if n in found else
                                             f"{CIFAR_MISSING}.") for n in missing]
    return "\n".join(text) + "\n"



@register_experiment("e1", aggregate, aliases=("tvo",), profiles=tuple(SIZES), paper=True,
                     sizes=SIZES)
def e1(profile: str, seeds: int) -> list[RunSpec]:
    """E1 invariance vs other factors: same vs disjoint transforms over four axes."""
    return unique(c.spec for c in cells(profile, seeds))


__all__ = ["AXES", "CIFAR", "CIFAR_AXES", "CIFAR_SIZES", "FAMILIES", "N_TARGET", "SIZES", "Cell",
           "aggregate", "available_cifar", "cells", "cifar_draw", "collect", "draw", "e1",
           "finetune_name"]
