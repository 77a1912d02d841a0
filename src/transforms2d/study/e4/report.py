"""The aggregation of ``e4``: the k × j transfer grid, pretraining accuracy by k, claim C8
with its preconditions, and the effect against training budget (computes nothing)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...engine.stats import positive_effect
from ..common import CI_COLUMNS, Collected, ci_row, claim, match, seeds_in
from .grid import N_TRANSFORMS, SIZES, cells, probe_name

TOLERANCE = 0.05  # C8 (a): "near the ceiling" = within this of the target's best cell
MONOTONE = 0.8  # C8 (c): share of one-transform steps that must go the expected way

# docs/protocol.md §6 E4, the authors' values (ResNet-18, linear probe).
AUTHORS_AT_8 = (0.27, 0.29, 0.37, 0.52, 0.62, 0.80, 0.87, 0.98)  # target 8, by pretraining k
AUTHORS_TRAIN_1 = (1.00, 0.99, 0.91, 0.77, 0.61, 0.44, 0.39, 0.27)  # pretraining 1, by target j
AUTHORS = ("accuracy ~1.0 whenever the target set is a subset of the pretraining set; at 8 "
           "target transforms by pretraining count 1..8: "
           + ", ".join(f"{v:.2f}" for v in AUTHORS_AT_8)
           + "; pretrained on 1, by target count 1..8: "
           + ", ".join(f"{v:.2f}" for v in AUTHORS_TRAIN_1))


def collect(records: list[dict], profile: str | None) -> dict[int, Collected]:
    """Per pretraining epochs (the profile's, and each budget's): ``(k, j) -> {seed: target
    test accuracy}`` and ``("train", k) -> {seed: final pretraining training accuracy}``,
    with the runs and probes behind them."""
    out: dict[int, Collected] = {}
    if profile not in SIZES:
        return out
    K = SIZES[profile]["k"]
    for c, r in match(cells(profile, seeds_in(records)), records, lambda c: c.spec):
        col = out.setdefault(c.epochs, Collected())
        probes = r["result"].get("probes", {})
        for j in range(1, K + 1):
            name = probe_name(j)
            col.put((c.k, j), c.seed, (probes.get(name) or {}).get("test_acc"), r, name)
    return out


def grid(profile: str | None) -> int:
    return SIZES[profile]["k"] if profile in SIZES else N_TRANSFORMS


def table(K: int, col: Collected) -> pd.DataFrame:
    """One row per ``(pretrain_k, target_j)``: seeds, mean, 95% CI (NaN where missing)."""
    rows = [ci_row(col.get((k, j)), pretrain_k=k, target_j=j, subset=j <= k)
            for k in range(1, K + 1) for j in range(1, K + 1)]
    return pd.DataFrame(rows, columns=["pretrain_k", "target_j", "subset", *CI_COLUMNS])


def pretrain_table(K: int, col: Collected) -> pd.DataFrame:
    """Final pretraining training accuracy by ``k`` (mean and CI over seeds)."""
    by_k: dict[int, dict[int, float]] = {}
    for (k, _j), sources in col.sources.items():
        for seed, (r, _) in sources.items():
            acc = ((r["result"].get("pretrain") or {}).get("final") or {}).get("train_acc")
            if acc is not None:
                by_k.setdefault(k, {})[seed] = acc
    rows = [ci_row(by_k.get(k, {}), pretrain_k=k) for k in range(1, K + 1)]
    return pd.DataFrame(rows, columns=["pretrain_k", *CI_COLUMNS]).rename(
        columns={"mean": "train_acc"})


def c8(col: Collected, table: pd.DataFrame, K: int) -> dict:
    """C8 from the per-cell seed values; preconditions: seeds, the pretraining of every
    model and every probe of the grid."""
    values = col.values
    mean = {(r.pretrain_k, r.target_j): r.mean for r in table.itertuples(index=False)}
    # (a) the worst subset cell of each target j against that target's best cell
    columns = {j: [mean[k, j] for k in range(1, K + 1)] for j in range(1, K + 1)}
    short = {j: max(c) - min(c[j - 1:]) for j, c in columns.items()
             if not any(math.isnan(v) for v in c)}
    worst = max(short, key=lambda j: (short[j], -j)) if short else None
    ok_a = len(short) == K and all(s <= TOLERANCE for s in short.values())
    # (b) paired per seed: all K transforms vs only the first, on the K-transform target
    hi, lo = values.get((K, K), {}), values.get((1, K), {})
    vb, _, cib = positive_effect([hi[s] - lo[s] for s in sorted(hi) if s in lo])
    # (c) one-transform steps beyond the diagonal: falling along rows, rising down column K
    rows = [((k, j), (k, j + 1)) for k in range(1, K) for j in range(k, K)]
    column = [((k, K), (k + 1, K)) for k in range(1, K)]
    falls = sum(mean[b] < mean[a] for a, b in rows)  # False where a cell is NaN
    rises = sum(mean[b] > mean[a] for a, b in column)
    ok_c = falls + rises >= MONOTONE * (len(rows) + len(column))
    if vb == "not run":
        verdict, note = vb, None
    else:
        verdict = "pass" if ok_a and vb == "pass" and ok_c else "fail"
        note = None if verdict == "pass" else "failed: " + ", ".join(
            p for p, ok in (("(a)", ok_a), ("(b)", vb == "pass"), ("(c)", ok_c)) if not ok)
    at_k = ", ".join(f"{mean[k, K]:.2f}" for k in range(1, K + 1))
    row1 = ", ".join(f"{mean[1, j]:.2f}" for j in range(1, K + 1))
    ours = ((f"(a) worst subset shortfall {short[worst]:.3f} (target j={worst}); "
             if worst is not None else "(a) -; ")
            + f"(b) acc(k={K}, j={K}) - acc(k=1, j={K}) = {cib}; "
            f"(c) rows fall in {falls}/{len(rows)} steps, column j={K} rises in "
            f"{rises}/{len(column)}; at j={K} by k=1..{K}: {at_k}; k=1 by j=1..{K}: {row1}")
    return claim(
        "C8", "Transfer stays near the ceiling when the target's transforms are a subset of the "
              "pretraining transforms and falls with every missing one.",
        f"mean over seeds per (pretraining k, target j) cell, k, j = 1..{K}; all of (a) for "
        f"every target j, every subset cell (k >= j) is within {TOLERANCE} of the best cell of "
        f"that target (any k); (b) per seed, acc(k={K}, j={K}) - acc(k=1, j={K}) > 0 with its "
        f"interval over seeds excluding 0; (c) of the one-transform steps beyond the "
        f"diagonal (k fixed, j -> j+1 for j >= k: should fall; j={K}, k -> k+1: should rise), "
        f"at least {MONOTONE:.0%} go that way (our threshold, for seed noise)", verdict, ours,
        AUTHORS, note, checks=col.checks(list(values)))




def budget_table(cols: dict[int, Collected], K: int) -> pd.DataFrame:
    """Seed 0 at each budget: C8's worst subset shortfall (a) and its all-minus-one difference
    at the K-transform target (b), and the lowest pretraining accuracy."""
    rows = []
    for epochs, col in sorted(cols.items()):
        acc = {(k, j): col.get((k, j)).get(0, math.nan) for k in range(1, K + 1)
               for j in range(1, K + 1)}
        short = [max(acc[k, j] for k in range(1, K + 1)) - min(acc[k, j] for k in range(j, K + 1))
                 for j in range(1, K + 1)]
        train = pretrain_table(K, col)
        rows.append({"epochs": epochs, "C8 worst subset shortfall": float(np.max(short)),
                     "C8 all - one at j=K": acc[K, K] - acc[1, K],
                     "min_train_acc": float(train.train_acc.min())})
    return pd.DataFrame(rows, columns=["epochs", "C8 worst subset shortfall",
                                       "C8 all - one at j=K", "min_train_acc"])
