"""The aggregation of ``e2``: the 4×4 probe table, invariance, the α/β axes, claims C6, C6α and
C6β with their preconditions (from the done runs; computes nothing)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...assets.cifar import cifar_available
from ...reporting.stats import combine, mean_ci, positive_effect
from .. import preconditions as pre
from ..claims import CLAIMS
from ..common import (
    CI_COLUMNS,
    Collected,
    budget_figure,
    ci_row,
    claim,
    match,
    paired,
    seeds_in,
    sizes_markdown,
)
from ..judging import judge_sensitivity
from ..sizes import budget_epochs
from .figures import axes_figure, grid_figure
from .grid import (
    AXES,
    CIFAR_MISSING,
    FACTORS,
    N_OBJECTS,
    OBJECT_SCALE,
    SIZES,
    SOURCES,
    STAND_IN,
    TASK_ID,
    TASKS,
    VARIANTS,
    E2Sizes,
    cells,
)

FACTOR_NAME = {"object": "object", "background": "scene"}  # in tables and figures
# docs/protocol.md §6 E2 (ResNet-18, CIFAR-10 scenes, 200 epochs).
AUTHORS = ("C+O/C model: invariance to objects 0.08 (C/C model 0.21); transfer to C+O/O 0.53 "
           "(translated 0.15) vs the C/C model's 0.80 (0.56); invariance and transfer "
           "correlate (Pearson 0.68 to 0.94)")
AUTHORS_AXES = "no saved outputs: only the expected direction (docs/protocol.md §6 E2)"


def collect(records: list[dict], sizes: E2Sizes | None, source: str = "objects"
            ) -> Collected:
    """``("probe", axis, value, variant, target task) -> {seed: acc}`` and ``("inv", axis,
    value, variant, factor) -> {seed: l2}`` of the done runs of ``source``, with the runs and
    probes behind them (axis ``tasks``: value = pretraining task); none for ``sizes`` ``None``."""
    col = Collected()
    if sizes is None:
        return col
    for c, r in match(cells(sizes, seeds_in(records), source), records, lambda c: c.spec):
        res = r["result"]
        for t in TASKS:
            name = f"{c.variant}.{TASK_ID[t]}"
            col.put(("probe", c.axis, c.value, c.variant, t), c.seed,
                    (res["probes"].get(name) or {}).get("test_acc"), r, name)
        for f in FACTORS:
            col.put(("inv", c.axis, c.value, c.variant, f), c.seed,
                    (res["invariance"].get(f"{c.variant}.{f}") or {}).get("l2"), r)
    return col


def tables(col: Collected, sizes: E2Sizes) -> dict[str, pd.DataFrame]:
    """``probe`` (4×4 per variant), ``invariance`` and ``axes`` (α/β levels: C/C and O/O
    probes, object invariance)."""
    probe_rows, inv_rows, axis_rows = [], [], []
    for v in VARIANTS:
        for task in TASKS:
            probe_rows += [ci_row(col.get(("probe", "tasks", task, v, t)), variant=v,
                                  pretrained_on=task, probed_on=t) for t in TASKS]
            inv_rows += [ci_row(col.get(("inv", "tasks", task, v, f)), variant=v,
                                pretrained_on=task, invariance_to=FACTOR_NAME[f])
                         for f in FACTORS]
    for axis, levels in (("alpha", sizes.alphas), ("beta", sizes.betas)):
        for lv in levels:
            for measure, key in (("C/C probe", ("probe", axis, lv, "fixed", "C/C")),
                                 ("O/O probe", ("probe", axis, lv, "fixed", "O/O")),
                                 ("object l2", ("inv", axis, lv, "fixed", "object"))):
                axis_rows.append(ci_row(col.get(key), axis=axis, level=lv, measure=measure))
    return {"probe": pd.DataFrame(probe_rows, columns=["variant", "pretrained_on", "probed_on",
                                                       *CI_COLUMNS]),
            "invariance": pd.DataFrame(inv_rows).rename(columns={"mean": "l2_mean"}),
            "axes": pd.DataFrame(axis_rows, columns=["axis", "level", "measure", *CI_COLUMNS])}


def budget_table(col: Collected, sizes: E2Sizes) -> pd.DataFrame:
    """Seed 0 at each budget (the profile's own epochs from the grid itself), per placement:
    C6 (a) the C/C minus C+O/C l2 to the object, (b) the C/C minus C+O/C accuracy on C+O/O,
    and the lowest pretraining accuracy of those models."""
    rows = []
    budgets = sorted({*budget_epochs(sizes), sizes.epochs})
    for epochs in budgets:
        def key(kind, task, v, m, epochs=epochs):
            return ((kind, "tasks", task, v, m) if epochs == sizes.epochs else
                    (kind, "budget", (epochs, task), v, m))
        row, runs = {"epochs": epochs}, []
        for v in VARIANTS:
            get = {(kind, t, m): col.get(key(kind, t, v, m)).get(0, math.nan)
                   for kind, m in (("inv", "object"), ("probe", "C+O/O"))
                   for t in ("C/C", "C+O/C")}
            row[f"{v} (a) l2 C/C - C+O/C"] = get["inv", "C/C", "object"] - \
                get["inv", "C+O/C", "object"]
            row[f"{v} (b) C+O/O acc C/C - C+O/C"] = get["probe", "C/C", "C+O/O"] - \
                get["probe", "C+O/C", "C+O/O"]
            runs += [src[0] for t in ("C/C", "C+O/C")
                     if (src := col.sources.get(key("probe", t, v, "C+O/O"), {}).get(0))]
        accs = [((r["result"].get("pretrain") or {}).get("final") or {}).get("train_acc")
                for r in runs]
        row["min_train_acc"] = min((a for a in accs if a is not None), default=math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


CHANCE = 1 / N_OBJECTS  # every E2 task has 10 classes (scenes or objects)


def _pearson(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 3 or np.std(xs) == 0 or np.std(ys) == 0:
        return math.nan
    return float(np.corrcoef(xs, ys)[0, 1])


def _c6(col: Collected, source: str, cifar_note: str) -> dict:
    parts, verdicts, keys = [], [], []
    for v in VARIANTS:
        ka = [("inv", "tasks", t, v, "object") for t in ("C/C", "C+O/C")]
        kb = [("probe", "tasks", t, v, "C+O/O") for t in ("C/C", "C+O/C")]
        keys += ka + kb
        # (a) the C+O/C model is more invariant to the object than the C/C model
        va, _, ca = positive_effect(paired(col.values, *ka))
        # (b) ...and transfers worse to C+O/O, the task that needs the object
        vb, _, cb = positive_effect(paired(col.values, *kb))
        verdicts += [va, vb]
        inv = {t: mean_ci(col.get(("inv", "tasks", t, v, "object")).values()).mean
               for t in TASKS}
        acc = {t: mean_ci(col.get(("probe", "tasks", t, v, "C+O/O")).values()).mean
               for t in TASKS}
        pairs = [(col.get(("inv", "tasks", t, v, "object"))[s], p)
                 for t in TASKS for s, p in col.get(("probe", "tasks", t, v, "C+O/O")).items()
                 if s in col.get(("inv", "tasks", t, v, "object"))]
        r = _pearson([p[0] for p in pairs], [p[1] for p in pairs])
        parts.append(f"{v}: invariance to objects C+O/C {inv['C+O/C']:.3f} vs C/C "
                     f"{inv['C/C']:.3f} (difference {ca}); transfer to C+O/O C+O/C "
                     f"{acc['C+O/C']:.3f} vs C/C {acc['C/C']:.3f} (difference {cb}); Pearson "
                     f"(object invariance, C+O/O transfer) over models x seeds {r:.2f}")
    verdict = combine(verdicts)
    inv_keys = [k for k in keys if k[0] == "inv"]
    acc_keys = [k for k in keys if k[0] == "probe"]
    return claim(
        "C6" if source == "objects" else "C6 CIFAR-10", CLAIMS["C6"].text,
        "for both object placements, paired over seeds, intervals excluding 0: (a) the C+O/C "
        "model is more invariant to the object than the C/C model (lower normalised l2) and "
        "(b) it transfers worse to C+O/O than the C/C model. Scenes: " + SOURCES[source]
        + cifar_note, verdict, " | ".join(parts), AUTHORS,
        basis=col.basis(keys, "C6", headroom=pre.joint(
            col.headroom(inv_keys, "normalised l2 to the object", 0.0, None),
            col.headroom(acc_keys, "C+O/O probe accuracy", CHANCE))))


def slope(xs: np.ndarray, ys: list[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs``; exactly 0 for a constant measure (a fit
    gives rounding noise, ~1e-17, which a sign test would read as a direction)."""
    if max(ys) == min(ys):
        return 0.0
    return float(np.polyfit(xs, ys, 1)[0])


def slopes(col: Collected, axis: str, measure_key, levels) -> list[float]:
    """Per seed, the least-squares slope of a measure over the axis' levels (seeds with
    every level only)."""
    by_level = [col.get(measure_key(lv)) for lv in levels]
    seeds = set.intersection(*(set(b) for b in by_level)) if by_level else set()
    xs = np.asarray(levels, dtype=float)
    return [slope(xs, [b[s] for b in by_level]) for s in sorted(seeds)]


def _axis_claim(col: Collected, axis: str, levels, source: str) -> dict:
    """C6α / C6β: the direction the paper expects along one axis, judged on the C+O/O probe
    accuracy and the l2 to the object; the O/O slope reported (docs/protocol.md §9 R5)."""
    sign = 1 if axis == "alpha" else -1  # alpha: both measures rise; beta: both fall
    co = slopes(col, axis, lambda lv: ("probe", axis, lv, "fixed", "C+O/O"), levels)
    l2 = slopes(col, axis, lambda lv: ("inv", axis, lv, "fixed", "object"), levels)
    oo = slopes(col, axis, lambda lv: ("probe", axis, lv, "fixed", "O/O"), levels)
    v1, _, c1 = positive_effect([sign * x for x in co])
    v2, _, c2 = positive_effect([sign * x for x in l2])
    c3 = mean_ci(oo)
    verdict = combine((v1, v2))
    acc_keys = [("probe", axis, lv, "fixed", "C+O/O") for lv in levels]
    inv_keys = [("inv", axis, lv, "fixed", "object") for lv in levels]
    name = {"alpha": ("label correlation α", "rise"), "beta": ("object availability β",
                                                               "fall")}[axis]
    cid = "C6α" if axis == "alpha" else "C6β"
    suffix = "" if source == "objects" else " CIFAR-10"
    return claim(
        cid + suffix, CLAIMS[cid].text,
        f"C+O/C models at {name[0]} = {', '.join(f'{x:g}' for x in levels)} (fixed placement): "
        f"per seed, the least-squares slope over the levels of the C+O/O probe accuracy and of "
        f"the normalised l2 to the object must both {name[1]} (interval of the mean slope "
        f"excluding 0; the O/O slope is reported, not judged: docs/protocol.md §9 R5). "
        f"Scenes: {SOURCES[source]}", verdict,
        f"slope of C+O/O accuracy {c1.mean * sign:+.3f} per unit (signed interval {c1}); slope "
        f"of object l2 {c2.mean * sign:+.3f} (signed interval {c2}); O/O accuracy slope "
        f"{c3.mean:+.3f} (reported)", AUTHORS_AXES,
        basis=col.basis(acc_keys + inv_keys, cid, headroom=pre.joint(
            col.headroom(acc_keys, "C+O/O probe accuracy", CHANCE),
            col.headroom(inv_keys, "normalised l2 to the object", 0.0, None))))


def claims(col: Collected, sizes: E2Sizes, source: str, cifar_note: str = "") -> list[dict]:
    out = [_c6(col, source, cifar_note)]
    for axis, key in zip(AXES, ("alphas", "betas")):
        if len(getattr(sizes, key)) >= 2:
            out.append(_axis_claim(col, axis, getattr(sizes, key), source))
    return out


def aggregate(records: list[dict], sizes: E2Sizes | None) -> dict:
    """Tables ``e2_probe`` (4×4 per variant), ``e2_invariance`` and ``e2_axes``, figures
    ``e2_transfer`` and ``e2_axes``, claims C6, C6α, C6β, all on the stand-in; with CIFAR-10
    results the same with a ``_cifar10`` suffix."""
    shown = sizes or SIZES["paper"]  # an unknown profile: no runs matched
    col = collect(records, sizes)
    ccol = collect(records, sizes, "cifar10")
    cifar = "found" if ccol.values else "pending" if cifar_available("cifar10") else "missing"
    note = "; the CIFAR-10 version: " + {"found": "claims C6 CIFAR-10 and C6α/β CIFAR-10",
                                          "pending": "no finished runs yet",
                                          "missing": CIFAR_MISSING}[cifar]
    out_tables, out_figures, out_claims = {}, {}, []
    for suffix, c, source in (("", col, "objects"), ("_cifar10", ccol, "cifar10")):
        if source == "cifar10" and not c.values:
            continue
        t = tables(c, shown)
        out_tables.update({f"e2_{k}{suffix}": v for k, v in t.items()})
        seeds = int(t["probe"].seeds.max()) if len(t["probe"]) else 0
        out_figures[f"e2_transfer{suffix}"] = grid_figure(t["probe"], t["invariance"], seeds,
                                                          SOURCES[source])
        out_figures[f"e2_axes{suffix}"] = axes_figure(t["axes"], t["probe"], seeds,
                                                      SOURCES[source])
        if shown.budgets:
            out_tables[f"e2_budget{suffix}"] = budget_table(c, shown)
            out_figures[f"e2_budget{suffix}"] = budget_figure(
                out_tables[f"e2_budget{suffix}"], "E2", "difference (> 0: the paper's direction)")
        extra = note if source == "objects" else ""
        def rebuild(drop, c=c, source=source, extra=extra):  # the claims without ``drop``
            return claims(c.without(drop), shown, source, extra)
        out_claims += judge_sensitivity(claims(c, shown, source, extra), rebuild)
    return {"markdown": markdown(sizes, cifar), "tables": out_tables,
            "figures": out_figures, "claims": out_claims}


def markdown(sizes: E2Sizes | None, cifar: str) -> str:
    """The report's text: the design, the stand-in, where CIFAR-10 stands, the sizes."""
    cifar_text = {"found": "the CIFAR-10 version is reported too (`_cifar10` tables and "
                           "figures, claims `... CIFAR-10`)",
                  "pending": "CIFAR-10 version: no finished runs yet",
                  "missing": f"CIFAR-10 version: {CIFAR_MISSING}"}[cifar]
    return (f"E2 (docs/protocol.md §6) on **{STAND_IN}** — a stand-in: the paper pastes the "
            f"objects on CIFAR-10 images; {cifar_text}. Tasks (input/label): C/C scene only, "
            f"C+O/C scene with object labelled by scene, C+O/O labelled by object, O/O object "
            f"on black. Objects {round(OBJECT_SCALE * 32)} px at 32 px, fixed in the "
            f"upper-right corner or anywhere (translated). Invariance: normalised l2 between "
            f"images that differ only in the object (same scene) or only in the scene (same "
            f"object); lower = more invariant. Axes (fixed placement): the C+O/C model with "
            f"label correlation α (the object's class follows the scene's with probability "
            f"α) and with object availability β (the object pasted with probability β; β = 0 "
            f"is the C/C model, β = 1 the C+O/C model), probed on C/C and O/O (table "
            f"`e2_axes`, figure `e2_axes`)."
            + (" What it would take: `e2_budget`, seed 0's C6 effects at other numbers of "
               "pretraining epochs." if sizes and sizes.budgets else "")
            + "\n\n" + sizes_markdown(sizes, SIZES))
