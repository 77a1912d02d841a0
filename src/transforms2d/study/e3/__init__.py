"""``e3``: how transferable is invariance? (docs/protocol.md §6 E3; claim C7, §7). The grid
is :mod:`.grid`, the aggregation :mod:`.report`, the figures :mod:`.figures`."""

from ...engine import RunSpec, register_experiment, unique
from ..common import budget_figure, describe_sizes, sizes_markdown
from ..judging import judge_sensitivity
from .figures import figures
from .grid import (
    CIFAR_DOMAINS,
    CIFAR_MISSING,
    DOMAINS,
    KINDS,
    N_PRIMARY,
    NONE,
    SIZES,
    Cell,
    E3Sizes,
    available_cifar,
    cells,
    draw,
    measured,
    object_sets,
)
from .report import (
    budget_table,
    c7,
    c7_without,
    matrix,
    measured_domains,
    parse,
    per_seed,
    pretrain_table,
    summary,
)


def aggregate(records: list[dict], sizes: E3Sizes | None) -> dict:
    """Tables ``e3_summary``, ``e3_matrix``, ``e3_pretrain``; figures ``e3_heatmap`` and
    ``e3_summary``; claim C7 (from the done runs; missing ones are left out)."""
    parsed, ts = parse(records, sizes)
    main = sizes.epochs if sizes else None
    inv, acc = parsed.inv.get(main, {}), parsed.acc.get(main, {})
    runs = parsed.runs.get(main, [])
    summ, mat = summary(inv, ts), matrix(inv, ts)
    pre = pretrain_table(acc, ts)
    none_acc = ", ".join(f"{k} {pre.iloc[-1][f'{k}_train_acc']:.3f}" for k in KINDS)
    domains = measured_domains(inv)
    done = [d for d in CIFAR_DOMAINS if any(domains[k][d] is None for k in KINDS)]
    if not done and not available_cifar():
        cifar_md = (f"CIFAR-10 and CIFAR-100 domains: {CIFAR_MISSING} (no CIFAR files found on "
                    f"this machine); their rows keep the authors' numbers only.")
    else:
        cifar_md = " ".join(
            f"{d}: " + ("measured on TransformedCIFAR test images (all classes, "
                        f"{sizes.n_inv_cifar if sizes else '?'} per transform, inputs in [-1, 1])."
                        if d in done else f"{domains['img'][d]}.") for d in CIFAR_DOMAINS)
    md = (f"E3 (docs/protocol.md §6): one model per training transform (and `none`), `img` "
          f"(30 primary builtin objects on image backgrounds) and `rand` (30 random-pixel "
          f"objects on random backgrounds); normalised-l2 invariance to every measured "
          f"transform on each domain. Same = the model trained on τ, Other = mean of those "
          f"trained on the other transforms, None = trained on none; means over τ, then over "
          f"seeds. Measured transforms: {len(ts)}. Pretraining train accuracy of the `none` "
          f"models: {none_acc} (chance {1 / N_PRIMARY:.3f}).\n\n"
          + sizes_markdown(sizes, SIZES, _describe) + f"\n{cifar_md}\n")
    tables = {"e3_summary": summ, "e3_matrix": mat, "e3_pretrain": pre}
    figs = figures(summ, mat, ts)
    if sizes and sizes.budgets:
        tables["e3_budget"] = budget_table(parsed, ts)
        figs["e3_budget"] = budget_figure(tables["e3_budget"], "E3", "normalised l2 difference")
        md += ("\nWhat it would take (table and figure `e3_budget`): seed 0's C7 effects when "
               "every model pretrains for other numbers of epochs, beside the lowest "
               "pretraining accuracy.\n")
    return {"markdown": md, "tables": tables, "figures": figs,
            "claims": judge_sensitivity([c7(inv, ts, runs)],
                                        lambda drop: [c7_without(inv, ts, runs, drop)])}



def _describe(sizes: E3Sizes) -> str:
    return describe_sizes(sizes) + " per domain and transform"


@register_experiment("e3", aggregate, aliases=("it",), paper=True, sizes=SIZES)
def e3(sizes: E3Sizes, seeds: tuple[int, ...]) -> list[RunSpec]:
    """E3 how transferable is invariance: one img and one rand model per transform and none."""
    return unique(c.spec for c in cells(sizes, seeds))


__all__ = ["CIFAR_DOMAINS", "DOMAINS", "KINDS", "NONE", "SIZES", "Cell", "E3Sizes", "aggregate",
           "cells",
           "draw", "e3", "measured", "measured_domains", "object_sets", "parse", "per_seed"]
