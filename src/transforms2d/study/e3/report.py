"""The aggregation of ``e3``: Same / Other / None invariance per domain, the training ×
measured transform matrix, pretraining accuracy, claim C7 with its preconditions and the
effect against training budget (computes nothing)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ...reporting.stats import combine, mean_ci, positive_effect, side
from ...reporting.verdicts import FAIL, NOT_RUN
from .. import preconditions as pre
from ..claims import CLAIMS
from ..common import claim, match, seeds_in
from ..judging import basis
from .grid import (
    CIFAR_DOMAINS,
    DOMAINS,
    KINDS,
    METRIC,
    NONE,
    OTHER_MARGIN,
    SHIFT_ORDER,
    E3Sizes,
    available_cifar,
    cells,
    measured,
)

ROLES = ("same", "other", "none")
# docs/protocol.md §6 E3, ResNet-18, normalised l2: kind -> domain -> (Same, Other, None).
AUTHORS = {
    "img": {"id": (0.12, 0.40, 0.39), "other_objects": (0.21, 0.41, 0.42),
            "random": (0.56, 0.69, 0.69), "cifar10": (0.37, 0.51, 0.48),
            "cifar100": (0.35, 0.50, 0.48)},
    "rand": {"id": (0.12, 0.64, 0.65), "random_other": (0.44, 0.69, 0.70),
             "real": (0.24, 0.33, 0.35), "cifar10": (0.40, 0.46, 0.49),
             "cifar100": (0.37, 0.45, 0.47)},
}


class Parsed:
    """The done runs by pretraining epochs: ``inv[epochs][(kind, domain, trained, measured)]
    -> {seed: l2}``, ``acc[epochs][(kind, trained)] -> {seed: training accuracy}`` and the
    records behind them (``runs[epochs]``)."""

    def __init__(self) -> None:
        self.inv: dict[int, dict[tuple, dict[int, float]]] = {}
        self.acc: dict[int, dict[tuple, dict[int, float]]] = {}
        self.runs: dict[int, list[Mapping]] = {}


def parse(records: list[dict], sizes: E3Sizes | None) -> tuple[Parsed, list[str]]:
    """The done runs matched to the cells of the grid with ``sizes`` (none for ``None``), and
    the measured transforms (in the paper's order) that have results."""
    out, seen = Parsed(), set()
    if sizes is None:
        return out, []
    seeds = seeds_in(records)
    # a run's spec names the CIFAR domains it measured: match against every combination
    grid = {c.spec: c for found in ((), *((d,) for d in CIFAR_DOMAINS), CIFAR_DOMAINS)
            for c in cells(sizes, seeds, found)}
    for c, r in match(grid.values(), records, lambda c: c.spec):
        res = r["result"]
        out.runs.setdefault(c.epochs, []).append(r)
        a = (res.get("pretrain") or {}).get("final", {}).get("train_acc")
        if a is not None:
            out.acc.setdefault(c.epochs, {}).setdefault((c.kind, c.trained), {})[c.seed] = a
        for name, m in res.get("invariance", {}).items():
            domain, _, t = name.partition(".")
            if m.get(METRIC) is not None:
                out.inv.setdefault(c.epochs, {}).setdefault(
                    (c.kind, domain, c.trained, t), {})[c.seed] = m[METRIC]
                seen.add(t)
    return out, [t for t in measured(sizes) if t in seen]


def per_seed(inv: dict, kind: str, domain: str, ts: list[str]) -> dict[int, tuple]:
    """``seed -> (Same, Other, None)``, each the mean over the measured τ that have all three
    (Same: trained on τ; Other: mean over the other trained transforms present; None)."""
    seeds = {s for (k, d, _, _), v in inv.items() if (k, d) == (kind, domain) for s in v}
    out = {}
    for s in sorted(seeds):
        rows = []
        for t in ts:
            same = inv.get((kind, domain, t, t), {}).get(s)
            none = inv.get((kind, domain, NONE, t), {}).get(s)
            others = [inv[(kind, domain, o, t)][s] for o in ts
                      if o != t and s in inv.get((kind, domain, o, t), {})]
            if same is not None and none is not None and others:
                rows.append((same, sum(others) / len(others), none))
        if rows:
            out[s] = tuple(sum(r[i] for r in rows) / len(rows) for i in range(3))
    return out


def measured_domains(inv: dict) -> dict[str, dict[str, object]]:
    """``DOMAINS`` with each CIFAR domain that has results given ``None`` (runnable) instead of
    its string, which says why it did not run."""
    have = {(k, d) for k, d, _, _ in inv}
    found = available_cifar()
    return {k: {d: None if (k, d) in have and d in CIFAR_DOMAINS else
                "not run yet" if d in CIFAR_DOMAINS and d in found else how
                for d, how in DOMAINS[k].items()} for k in KINDS}


def summary(inv: dict, ts: list[str]) -> pd.DataFrame:
    rows = []
    domains = measured_domains(inv)
    for kind in KINDS:
        for domain, how in domains[kind].items():
            by_seed = per_seed(inv, kind, domain, ts)
            row = {"kind": kind, "domain": domain, "seeds": len(by_seed)}
            for i, role in enumerate(ROLES):
                ci = mean_ci(v[i] for v in by_seed.values())
                row.update({role: ci.mean, f"{role}_low": ci.low, f"{role}_high": ci.high})
            gain = mean_ci(v[2] - v[0] for v in by_seed.values())
            row.update(none_minus_same=gain.mean, none_minus_same_low=gain.low,
                       none_minus_same_high=gain.high)
            auth = AUTHORS[kind].get(domain, (math.nan,) * 3)
            row.update({f"authors_{role}": a for role, a in zip(ROLES, auth)})
            row["note"] = how if isinstance(how, str) else ""
            rows.append(row)
    return pd.DataFrame(rows)


def matrix(inv: dict, ts: list[str]) -> pd.DataFrame:
    """Wide table: one row per (kind, domain, trained), one column of mean l2 per measured τ."""
    rows = []
    domains = measured_domains(inv)
    for kind in KINDS:
        for domain, how in domains[kind].items():
            if isinstance(how, str):
                continue
            for tr in (*ts, NONE):
                cells_ = [inv.get((kind, domain, tr, t), {}) for t in ts]
                rows.append({"kind": kind, "domain": domain, "trained": tr,
                             "seeds": min((len(c) for c in cells_), default=0),
                             **{t: mean_ci(c.values()).mean for t, c in zip(ts, cells_)}})
    return pd.DataFrame(rows, columns=["kind", "domain", "trained", "seeds", *ts])


def pretrain_table(acc: dict, ts: list[str]) -> pd.DataFrame:
    rows = [{"trained": tr, **{f"{k}_train_acc": mean_ci(acc.get((k, tr), {}).values()).mean
                               for k in KINDS},
             "seeds": min(len(acc.get((k, tr), {})) for k in KINDS)} for tr in (*ts, NONE)]
    return pd.DataFrame(rows, columns=["trained", *(f"{k}_train_acc" for k in KINDS), "seeds"])


def _transfer_part(ps: dict, runnable: list) -> tuple[list[str], str]:
    """C7 (a): None - Same > 0 on each runnable (kind, domain)."""
    words, parts = [], []
    for k, d in runnable:
        v, _, ci = positive_effect([x[2] - x[0] for x in ps[(k, d)].values()])
        words.append(v)
        parts.append(f"{k}/{d} {ci}")
    return words, "(a) None-Same " + "; ".join(parts) + f" -> {combine(words)}"


def _weakening_part(ps: dict, row: dict, k: str) -> tuple[list[str], str]:
    """C7 (b) for one kind: the drop of None - Same from each shift to the next, paired per
    seed."""
    shifts = [d for d in SHIFT_ORDER[k] if (k, d) in ps]
    gains = [row[(k, d)].none_minus_same for d in shifts]
    words, steps = [], []
    for near, far in zip(shifts, shifts[1:]):
        both = sorted(set(ps[(k, near)]) & set(ps[(k, far)]))
        v, _, ci = positive_effect([(ps[(k, near)][s][2] - ps[(k, near)][s][0])
                                    - (ps[(k, far)][s][2] - ps[(k, far)][s][0])
                                    for s in both])
        words.append(v)
        steps.append(f"{near} - {far} {ci} {v}")
    return words, (f"(b) {k} None-Same along {' > '.join(shifts)}: "
                   + " / ".join(f"{g:.3f}" for g in gains) + "; drops " + "; ".join(steps))


def _non_inferiority_part(ps: dict, runnable: list) -> tuple[list[str], str]:
    """C7 (c): None - Other at or below the margin on each runnable (kind, domain)."""
    excess = {kd: mean_ci([x[2] - x[1] for x in ps[kd].values()]) for kd in runnable}
    words = [side(ci, OTHER_MARGIN, above=False) for ci in excess.values()]
    return words, ("(c) None-Other " + "; ".join(f"{k}/{d} {e}" for (k, d), e in excess.items())
                   + f" -> {combine(words)}")


C7_CRITERION = (
    "normalised l2, mean over the measured τ; all three parts on every runnable domain of "
    "img and rand models: (a) transfer: None - Same > 0 with its interval over seeds "
    "excluding 0; (b) weakening: mean None - Same strictly decreases along "
    + "; ".join(f"{k}: {' > '.join(o)}" for k, o in SHIFT_ORDER.items())
    + f"; (b) per seed, the drop of None - Same from each shift to the next > 0, its "
    f"interval excluding 0; (c) non-inferiority: the interval of None - Other lies at or "
    f"below {OTHER_MARGIN} (other transforms are no more invariant than none). Models "
    "of a kind train equal epochs and transfer their best-validation weights "
    "(docs/protocol.md §9). CIFAR domains: ")


def c7(inv: dict, ts: list[str], runs: list[Mapping]) -> dict:
    """C7 from three parts; each needs every runnable domain of both kinds (the CIFAR ones
    count where they were measured). Its preconditions as the claim registry lists them (the
    models' ``learned-or-capped``: >= 0.95, or a plateau where the task itself allows less)."""
    domains = measured_domains(inv)
    runnable = [(k, d) for k in KINDS for d, how in domains[k].items()
                if not isinstance(how, str)]
    cifar = sorted({d for k, d in runnable if d in CIFAR_DOMAINS})
    ps = {kd: per_seed(inv, *kd, ts) for kd in runnable}
    n = min(len(v) for v in ps.values())
    row = {(r.kind, r.domain): r for r in summary(inv, ts).itertuples()}
    parts = [_transfer_part(ps, runnable)]
    parts += [_weakening_part(ps, row, k) for k in KINDS]
    parts.append(_non_inferiority_part(ps, runnable))
    words = [w for ws, _ in parts for w in ws]
    verdict = NOT_RUN if n < 2 else combine(words)
    l2 = {(kd, role): {s: x[i] for s, x in ps[kd].items()} for kd in runnable
          for i, role in enumerate(ROLES)}
    auth = "; ".join(f"{k} ({' / '.join(AUTHORS[k])}): " + ", ".join(
        f"{role.title()} " + "/".join(f"{v[i]:.2f}" for v in AUTHORS[k].values())
        for i, role in enumerate(ROLES)) for k in KINDS)
    seeds = {s for v in ps.values() for s in v}
    bound_only = FAIL in parts[-1][0] and FAIL not in [w for ws, _ in parts[:-1] for w in ws]
    return claim(
        "C7", CLAIMS["C7"].text,
        C7_CRITERION + (f"{', '.join(cifar)} included in (a) and (c)" if cifar else "not run")
        + ".", verdict, " | ".join(t for _, t in parts), auth,
        basis=basis("C7", runs, seeds=seeds, fewest=n, headroom=pre.headroom(
            "normalised l2 (Same / Other / None)", l2, 0.0)), bound_failed=bound_only)


def c7_without(inv: dict, ts: list[str], runs: list[Mapping], drop: frozenset[int]) -> dict:
    """C7 recomputed without the seeds ``drop`` (their invariance values and runs)."""
    kept = {key: {s: v for s, v in by_seed.items() if s not in drop}
            for key, by_seed in inv.items()}
    return c7({k: v for k, v in kept.items() if v}, ts,
              [r for r in runs if r["spec"].seed not in drop])


def budget_table(parsed: Parsed, ts: list[str]) -> pd.DataFrame:
    """Seed 0 at each budget: None - Same per runnable domain (C7 (a)), None - Other at ID
    (C7 (c)), and the lowest pretraining accuracy."""
    rows = []
    for epochs in sorted(parsed.inv):
        inv = parsed.inv[epochs]
        row = {"epochs": epochs}
        for kind in KINDS:
            for domain in SHIFT_ORDER[kind]:
                v = per_seed(inv, kind, domain, ts).get(0)
                row[f"{kind}/{domain} none-same"] = math.nan if v is None else v[2] - v[0]
                if domain == "id":
                    row[f"{kind}/id none-other"] = math.nan if v is None else v[2] - v[1]
        accs = [a[0] for a in parsed.acc.get(epochs, {}).values() if 0 in a]
        row["min_train_acc"] = min(accs) if accs else math.nan
        rows.append(row)
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["epochs", "min_train_acc"])
