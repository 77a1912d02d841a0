"""The aggregation of ``e1``: per-axis transfer table, performance differences, claims C1–C5
(and C1–C3 on each CIFAR dataset) with their preconditions, and the effect against training
budget where the profile has budget cells (computes nothing)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ...assets.cifar import FORMATS
from ...reporting.stats import combine, mean_ci, positive_effect
from ...reporting.verdicts import NOT_RUN
from .. import preconditions as pre
from ..claims import CLAIMS
from ..common import CI_COLUMNS, Collected, ci_row, claim, match, paired, seeds_in
from ..sizes import budget_epochs
from .grid import (
    AXES,
    AXIS_LABEL,
    CIFAR,
    CIFAR_AXES,
    FAMILIES,
    SIZES,
    E1Sizes,
    cells,
    finetune_name,
)

AXIS_KEY = {"classes": "classes", "architecture": "models", "pt_samples": "pt_samples",
            "ft_samples": "ft_samples"}  # axis -> its list in SIZES

# docs/protocol.md §6 E1, the authors' values (ResNet-18, linear probe, 10 seeds).
AUTHORS = {
    "gap": "0.12 to 0.15 (same ~0.98 vs disjoint ~0.86)",
    "architecture": "disjoint range 0.07 / gap 0.12 / same range 0.02",
    "pt_samples": "disjoint range 0.03 / gap 0.15 / same range 0.04; disjoint 0.81 -> 0.84",
    "classes": "same transforms, disjoint classes ~0.98 vs disjoint transforms, same classes "
               "~0.91",
    "finetune": "full fine-tuning on 2000 target samples shrinks the gap to ~0.04",
}
AUTHORS_CIFAR = {  # same - disjoint gap per axis (class rel. / architecture / PT samples)
    "cifar10": "gaps 0.19 / 0.12 / 0.06 (class rel. / architecture / PT samples)",
    "cifar100": "gaps 0.33 / 0.19 / 0.14 (class rel. / architecture / PT samples)",
}


def collect(records: list[dict], sizes: E1Sizes | None) -> Collected:
    """``(axis, value, family) -> {seed: target test accuracy}`` of the done runs, matched to
    the cells of the grid with ``sizes`` (none for ``None``; every CIFAR cell included), with
    the runs and probes behind them; ``("finetune", "linear probe" | "full fine-tuning",
    family)`` for C5 and
    ``("budget", (epochs, axis, value), family)`` for the budget cells."""
    col = Collected()
    if sizes is None:
        return col
    ft_name = finetune_name(sizes)
    for c, r in match(cells(sizes, seeds_in(records), tuple(CIFAR)), records,
                      lambda c: c.spec):
        probes = r["result"]["probes"]
        value = c.value if c.axis == "budget" else str(c.value)
        col.put((c.axis, value, c.family), c.seed, (probes.get(c.probe) or {}).get("test_acc"),
                r, c.probe)
        ft = probes.get(ft_name) or {}
        if (ft.get("finetune") or {}).get("test_acc") is not None:
            for kind, acc in (("linear probe", ft.get("test_acc")),
                              ("full fine-tuning", ft["finetune"]["test_acc"])):
                key = ("finetune", kind, c.family) if c.axis != "budget" else \
                    ("budget", (c.value[0], "finetune", kind), c.family)
                col.put(key, c.seed, acc, r, ft_name)
    return col


def budget_table(col: Collected, sizes: E1Sizes) -> pd.DataFrame:
    """Seed 0's effects at each budget (the profile's own epochs from the grid itself): C1's
    gap, C3's gap minus the disjoint range over the pretraining-samples extremes, C4's
    difference, C5's shrink, and the lowest pretraining accuracy among those models."""
    def at(epochs: int, axis: str, value, fam: str) -> tuple[float | None, Mapping | None]:
        key = ((axis, str(value), fam) if epochs == sizes.epochs else
               ("budget", (epochs, axis, value), fam))
        src = col.sources.get(key, {}).get(0)
        return col.get(key).get(0), (src[0] if src else None)

    rows = []
    lo, hi = min(sizes.pt_samples), max(sizes.pt_samples)
    for epochs in sorted({*budget_epochs(sizes), *([sizes.epochs] if sizes.budgets else [])}):
        ext = {"min": lo, "max": hi} if epochs == sizes.epochs else {"min": "min", "max": "max"}
        got = {(a, v, f): at(epochs, a, v, f) for a, v in
               (("classes", "disjoint"), ("classes", "same"), ("pt_samples", ext["min"]),
                ("pt_samples", ext["max"])) for f in FAMILIES}
        acc = {k: v[0] for k, v in got.items()}
        ft = {(kind, f): at(epochs, "finetune", kind, f)[0] if epochs != sizes.epochs else
              col.get(("finetune", kind, f)).get(0)
              for kind in ("linear probe", "full fine-tuning") for f in FAMILIES}
        rows.append({"epochs": epochs,
                     "C1 gap": _diff(acc, ("classes", "disjoint", "same"),
                                     ("classes", "disjoint", "disjoint")),
                     "C3 gap - disjoint range": _c3_margin(acc, ext),
                     "C4 difference": _diff(acc, ("classes", "disjoint", "same"),
                                            ("classes", "same", "disjoint")),
                     "C5 shrink": _shrink(ft),
                     "min_train_acc": min((_train_acc(r) for _, r in got.values() if r),
                                          default=math.nan)})
    return pd.DataFrame(rows, columns=["epochs", "C1 gap", "C3 gap - disjoint range",
                                       "C4 difference", "C5 shrink", "min_train_acc"])


def _diff(acc: dict, a: tuple, b: tuple) -> float:
    return math.nan if acc.get(a) is None or acc.get(b) is None else acc[a] - acc[b]


def _c3_margin(acc: dict, ext: dict) -> float:
    vals = [acc.get(("pt_samples", ext[e], f)) for e in ("min", "max") for f in FAMILIES]
    if any(v is None for v in vals):
        return math.nan
    s_min, d_min, s_max, d_max = vals
    return ((s_min + s_max) - (d_min + d_max)) / 2 - abs(d_max - d_min)


def _shrink(ft: dict) -> float:
    v = [ft.get((k, f)) for k in ("linear probe", "full fine-tuning") for f in FAMILIES]
    return math.nan if any(x is None for x in v) else (v[0] - v[1]) - (v[2] - v[3])


def _train_acc(record: Mapping) -> float:
    return ((record["result"].get("pretrain") or {}).get("final") or {}).get("train_acc",
                                                                              math.nan)


def table(sizes: E1Sizes | None, col: Collected) -> pd.DataFrame:
    rows = []
    sizes = sizes or SIZES["quick"]  # an unknown profile: the rows of quick, all empty
    for axis in (*AXES, "finetune"):
        for v in getattr(sizes, AXIS_KEY[axis]) if axis in AXIS_KEY else ("linear probe",
                                                             "full fine-tuning"):
            rows += [ci_row(col.get((axis, str(v), fam)), axis=axis, value=str(v), family=fam)
                     for fam in FAMILIES]
    cifar = sizes.cifar
    for name in cifar_present(col):
        for axis, key in zip(CIFAR_AXES, ("classes", "models", "pt_samples")):
            rows += [ci_row(col.get((f"{name}:{axis}", str(v), fam)),
                            axis=f"{name}:{axis}", value=str(v), family=fam)
                     for v in getattr(cifar, key) for fam in FAMILIES]
    return pd.DataFrame(rows, columns=["axis", "value", "family", *CI_COLUMNS])


def cifar_present(col: Collected) -> list[str]:
    """The CIFAR datasets with at least one result."""
    return [n for n in CIFAR if any(k[0].startswith(f"{n}:") for k in col.values)]


def _axis_means(table: pd.DataFrame, axis: str, fam: str) -> list[float]:
    sub = table[(table.axis == axis) & (table.family == fam)]
    return [float(m) for m in sub["mean"] if not math.isnan(m)]


def _spread(xs: list[float]) -> float:
    return max(xs) - min(xs) if xs else math.nan


def differences(table: pd.DataFrame, axes=AXES) -> dict[str, dict[str, float]]:
    """Per axis: range of disjoint over the axis, mean same - disjoint gap, range of same."""
    out = {}
    for axis in axes:
        s, d = _axis_means(table, axis, "same"), _axis_means(table, axis, "disjoint")
        gap = (sum(s) / len(s) - sum(d) / len(d)) if s and d else math.nan
        out[axis] = {"disjoint_range": _spread(d), "gap": gap, "same_range": _spread(s)}
    return out


def axis_keys(col: Collected, axis: str) -> list[tuple]:
    """Every (axis, value, family) key of ``axis`` with results."""
    return [k for k in col.values if k[0] == axis]


def _range_claim(cid: str, axis: str, col: Collected, diffs: dict, chance: float) -> dict:
    """C2 / C3: per seed, (mean same - disjoint gap over the axis' values) - (range of the
    disjoint accuracy over them) > 0, its interval over seeds excluding 0 (docs/protocol.md
    §10.6)."""
    d = diffs[axis]
    keys = axis_keys(col, axis)
    verdict, _, margin = positive_effect(gap_minus_range(col, keys))
    return claim(
        cid, CLAIMS[cid].text,
        f"per seed, (mean same - disjoint gap over the {AXIS_LABEL[axis]} values) - (range, "
        f"max - min, of the disjoint accuracy over those values) > 0; the interval of its mean "
        f"over seeds excluding 0", verdict,
        f"gap {d['gap']:.3f} vs disjoint range {d['disjoint_range']:.3f} "
        f"(same range {d['same_range']:.3f}, means over seeds); per-seed margin {margin}",
        AUTHORS[axis], basis=col.basis(keys, cid, headroom=col.headroom(
            keys, "target probe accuracy", chance)))


def gap_minus_range(col: Collected, keys: list[tuple]) -> list[float]:
    """Per seed with every one of ``keys`` (``(axis, value, family)``), in seed order: the mean
    same - disjoint gap over the axis' values minus the range of the disjoint accuracy (values
    with both families only)."""
    both = sorted({(a, v) for a, v, f in keys if f == "same" and (a, v, "disjoint") in keys})
    seeds = set.intersection(*(set(col.get(k)) for k in keys)) if keys and both else set()
    out = []
    for s in sorted(seeds):
        same = [col.get((a, v, "same"))[s] for a, v in both]
        dis = [col.get((a, v, "disjoint"))[s] for a, v in both]
        out.append((sum(same) - sum(dis)) / len(both) - (max(dis) - min(dis)))
    return out


def claims(col: Collected, diffs: dict, sizes: E1Sizes) -> list[dict]:
    chance = 1 / sizes.n_target
    default = [("classes", "disjoint", f) for f in FAMILIES]
    v1, _, ci1 = positive_effect(paired(col.values, *default))
    same, dis = (mean_ci(col.get(k).values()) for k in default)
    out = [claim(
        "C1", CLAIMS["C1"].text,
        "default configuration: mean over seeds of (same - disjoint) target probe accuracy > 0, "
        "its interval excluding 0", v1,
        f"gap {ci1}; same {same.mean:.3f} vs disjoint {dis.mean:.3f}", AUTHORS["gap"],
        basis=col.basis(default, "C1", headroom=col.headroom(default, "target probe accuracy",
                                                            chance)))]
    out.append(_range_claim("C2", "architecture", col, diffs, chance))
    out.append(_range_claim("C3", "pt_samples", col, diffs, chance))
    k4 = [("classes", "disjoint", "same"), ("classes", "same", "disjoint")]
    v4, _, ci4 = positive_effect(paired(col.values, *k4))
    a, b = (mean_ci(col.get(k).values()) for k in k4)
    out.append(claim(
        "C4", CLAIMS["C4"].text,
        "mean over seeds of (same transforms pretrained on the other classes - disjoint "
        "transforms pretrained on the target classes) > 0, its interval excluding 0", v4,
        f"difference {ci4}; {a.mean:.3f} vs {b.mean:.3f}", AUTHORS["classes"],
        basis=col.basis(k4, "C4", headroom=col.headroom(k4, "target probe accuracy", chance))))
    out.append(_c5(col, sizes))
    return out


def _c5(col: Collected, sizes: E1Sizes) -> dict:
    probe = [("finetune", "linear probe", f) for f in FAMILIES]
    full = [("finetune", "full fine-tuning", f) for f in FAMILIES]
    probe_gap, full_gap = paired(col.values, *probe), paired(col.values, *full)
    v5, _, ci5 = positive_effect([a - b for a, b in zip(probe_gap, full_gap)])
    basis = col.basis(probe + full, "C5", fine_tuning=pre.finetuning(col.probes(full)),
                      headroom=col.headroom(probe + full, "target accuracy (probe and "
                                            "fine-tuned)", 1 / sizes.n_target))
    return claim(
        "C5", CLAIMS["C5"].text,
        f"default configuration, {sizes.finetune.n} target samples: mean over seeds of "
        "(linear-probe gap - full fine-tuning gap) > 0, its interval excluding 0 (gap = same - "
        "disjoint target accuracy)", v5,
        f"probe gap {mean_ci(probe_gap).mean:.3f} -> fine-tuned gap "
        f"{mean_ci(full_gap).mean:.3f}; shrink {ci5}", AUTHORS["finetune"], basis=basis)


def cifar_claim(name: str, col: Collected, table: pd.DataFrame) -> dict:
    """C1–C3 on one CIFAR dataset: a positive default gap, exceeding the disjoint range over
    architectures and over pretraining samples."""
    axes = [f"{name}:{a}" for a in CIFAR_AXES]
    diffs = differences(table, axes)
    default = [(axes[0], "disjoint", f) for f in FAMILIES]
    v1, _, ci1 = positive_effect(paired(col.values, *default))
    words = [v1]
    parts = [f"(C1) default gap {ci1}"]
    for cid, axis in (("C2", axes[1]), ("C3", axes[2])):
        d = diffs[axis]
        word, _, margin = positive_effect(gap_minus_range(col, axis_keys(col, axis)))
        words.append(word)
        parts.append(f"({cid}) {AXIS_LABEL[axis.split(':')[1]]}: gap {d['gap']:.3f} vs "
                     f"disjoint range {d['disjoint_range']:.3f}, per-seed margin {margin}")
    parts.append("gaps per axis (class rel. / architecture / PT samples): "
                 + " / ".join(f"{diffs[a]['gap']:.3f}" for a in axes))
    keys = [k for a in axes for k in axis_keys(col, a)]
    nan = any(math.isnan(diffs[a][k]) for a in axes for k in ("gap", "disjoint_range"))
    verdict = NOT_RUN if nan else combine(words)
    # not in the registry: C1's preconditions (C1 and C2 need the held-out rule, so the whole
    # check does)
    return claim(
        f"C1-C3 {CIFAR[name]}",
        f"On {CIFAR[name]} (the paper's CIFAR variant) matching invariance beats mismatching, "
        f"by more than the spread due to architecture and to the number of pretraining samples.",
        "C1's criterion on the default configuration, and C2's and C3's (per seed, mean gap "
        f"over the axis - range of the disjoint accuracy > 0) on the {CIFAR[name]} axes; all "
        "three must hold", verdict, "; ".join(parts), AUTHORS_CIFAR[name],
        basis=col.basis(keys, "C1", headroom=col.headroom(
            keys, "target probe accuracy", 1 / (FORMATS[name].num_classes // 2))))
