"""The aggregation of ``e4``: the k × j transfer grid, pretraining accuracy by k, claim C8
with its preconditions, and the effect against training budget (computes nothing)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...reporting.stats import MeanCI, combine, mean_ci, positive_effect
from ...reporting.verdicts import FAIL, INCONCLUSIVE, NOT_RUN, PASS
from ..claims import CLAIMS
from ..common import CI_COLUMNS, Collected, ci_row, claim, match, seeds_in
from .grid import N_TRANSFORMS, E4Sizes, cells, probe_name

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


def collect(records: list[dict], sizes: E4Sizes | None) -> dict[int, Collected]:
    """Per pretraining epochs (the profile's, and each budget's): ``(k, j) -> {seed: target
    test accuracy}`` and ``("train", k) -> {seed: final pretraining training accuracy}``,
    with the runs and probes behind them (none for ``sizes`` ``None``)."""
    out: dict[int, Collected] = {}
    if sizes is None:
        return out
    K = sizes.k
    for c, r in match(cells(sizes, seeds_in(records)), records, lambda c: c.spec):
        col = out.setdefault(c.epochs, Collected())
        probes = r["result"].get("probes", {})
        for j in range(1, K + 1):
            name = probe_name(j)
            col.put((c.k, j), c.seed, (probes.get(name) or {}).get("test_acc"), r, name)
    return out


def grid(sizes: E4Sizes | None) -> int:
    return sizes.k if sizes else N_TRANSFORMS


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


def shortfalls(col: Collected, K: int) -> dict[tuple[int, int], MeanCI]:
    """C8 (a) per subset cell ``(k, j)``, k >= j: per seed, its target's best cell (the cell of
    column j with the highest mean over seeds, any k) minus that cell; the interval of its mean
    over the seeds both have. The best cell itself is left out (identically 0)."""
    out = {}
    for j in range(1, K + 1):
        means = {k: mean_ci(col.get((k, j)).values()).mean for k in range(1, K + 1)}
        known = {k: m for k, m in means.items() if not math.isnan(m)}
        if not known:
            continue
        best = col.get((max(known, key=known.get), j))
        for k in range(j, K + 1):
            if k != max(known, key=known.get):
                cell = col.get((k, j))
                out[k, j] = mean_ci([best[s] - cell[s] for s in sorted(best) if s in cell])
    return out


def _steps(K: int) -> tuple[list, list]:
    """C8 (c)'s one-transform steps beyond the diagonal: along rows (should fall) and down
    column K (should rise)."""
    return ([((k, j), (k, j + 1)) for k in range(1, K) for j in range(k, K)],
            [((k, K), (k + 1, K)) for k in range(1, K)])


def monotone(col: Collected, K: int) -> list[float]:
    """C8 (c) per seed with every cell: the fraction of those steps that go the expected way."""
    along, down = _steps(K)
    grid = [(k, j) for k in range(1, K + 1) for j in range(1, K + 1)]
    seeds = set.intersection(*(set(col.get(c)) for c in grid))
    out = []
    for s in sorted(seeds):
        m = {c: col.get(c)[s] for c in grid}
        good = sum(m[b] < m[a] for a, b in along) + sum(m[b] > m[a] for a, b in down)
        out.append(good / (len(along) + len(down)))
    return out


def _bound_part(cells: dict[tuple[int, int], MeanCI]) -> tuple[str, str]:
    """C8 (a)'s verdict (pass: every cell's upper end <= the tolerance; fail: some cell's lower
    end above it) and the worst cell."""
    if not cells or any(ci.n < 2 for ci in cells.values()):
        return NOT_RUN, "-"
    worst = max(cells, key=lambda c: cells[c].high)
    word = PASS if all(ci.high <= TOLERANCE for ci in cells.values()) else \
        FAIL if any(ci.low > TOLERANCE for ci in cells.values()) else INCONCLUSIVE
    over = sum(ci.low > TOLERANCE for ci in cells.values())
    return word, (f"largest shortfall at (k={worst[0]}, j={worst[1]}) {cells[worst]}; {over} of "
                  f"{len(cells)} subset cell(s) above {TOLERANCE} with their whole interval")


def c8(col: Collected, table: pd.DataFrame, K: int, chance: float) -> dict:
    """C8 from the per-cell seed values, each part reduced to values per seed and their
    intervals (docs/protocol.md §10.6); its preconditions as the claim registry lists them."""
    values = col.values
    mean = {(r.pretrain_k, r.target_j): r.mean for r in table.itertuples(index=False)}
    grid = [(k, j) for k in range(1, K + 1) for j in range(1, K + 1)]
    va, worst = _bound_part(shortfalls(col, K))
    ci_c = mean_ci(monotone(col, K))
    vc = NOT_RUN if ci_c.n < 2 else PASS if ci_c.low >= MONOTONE else \
        FAIL if ci_c.high < MONOTONE else INCONCLUSIVE
    # (b) paired per seed: all K transforms vs only the first, on the K-transform target
    hi, lo = values.get((K, K), {}), values.get((1, K), {})
    vb, _, cib = positive_effect([hi[s] - lo[s] for s in sorted(hi) if s in lo])
    verdict = combine((va, vb, vc))
    note = None if verdict in (PASS, NOT_RUN) else "; ".join(
        f"{p} {v}" for p, v in (("(a)", va), ("(b)", vb), ("(c)", vc)) if v != "pass")
    along, down = _steps(K)
    falls = sum(mean[b] < mean[a] for a, b in along)  # False where a cell is NaN
    rises = sum(mean[b] > mean[a] for a, b in down)
    at_k = ", ".join(f"{mean[k, K]:.2f}" for k in range(1, K + 1))
    row1 = ", ".join(f"{mean[1, j]:.2f}" for j in range(1, K + 1))
    ours = (f"(a) {worst}; "
            f"(b) acc(k={K}, j={K}) - acc(k=1, j={K}) = {cib}; "
            f"(c) per-seed share of expected steps {ci_c} (on the means: rows fall in "
            f"{falls}/{len(along)} steps, column j={K} rises in {rises}/{len(down)}); at j={K} "
            f"by k=1..{K}: {at_k}; "
            f"k=1 by j=1..{K}: {row1}")
    return claim(
        "C8", CLAIMS["C8"].text,
        f"mean over seeds per (pretraining k, target j) cell, k, j = 1..{K}; all of (a) per "
        f"subset cell (k >= j), per seed, its target's best cell (highest mean, any k) minus "
        f"it: every cell's interval at or below {TOLERANCE} (fail: some cell's whole interval "
        f"above it); (b) per seed, acc(k={K}, j={K}) - acc(k=1, j={K}) > 0 with its interval "
        f"excluding 0; (c) per seed, the share of the one-transform steps beyond the diagonal "
        f"(k fixed, j -> j+1 for j >= k: should fall; j={K}, k -> k+1: should rise) that go that "
        f"way, the interval's lower end at or above {MONOTONE:.0%} (our threshold, for seed "
        f"noise)", verdict, ours, AUTHORS, note,
        basis=col.basis(list(values), "C8", headroom=col.headroom(
            grid, "target probe accuracy", chance)),
        bound_failed=va == FAIL and FAIL not in (vb, vc))


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
