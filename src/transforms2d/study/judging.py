"""From a claim's criterion to its reported verdict (docs/protocol.md §10.4–10.5).

:func:`basis` checks exactly the preconditions the claim registry lists for a claim
(``ClaimInfo.preconditions``) on the runs it compares, and names the models below a per-model
rule; :func:`judge_sensitivity` recomputes each claim without the seeds of those models and
applies the verdict rule:

- every precondition met: the criterion's verdict;
- only per-model preconditions unmet (``fit``, ``memorisation``, ``held-out``,
  ``learned-or-capped``): the criterion's verdict, marked *robust: k model(s) excluded*, if the
  criterion recomputed on the seeds left (at least :data:`MIN_SEEDS_LEFT`) gives the same
  verdict; otherwise *not a fair test*;
- any other precondition unmet: *not a fair test*.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..reporting.verdicts import NOT_FAIR, NOT_RUN
from . import preconditions as pre
from .claims import CLAIMS
from .model_checks import MODEL_RULES, Transferred, compared_models, model_check, models_below

MIN_SEEDS_LEFT = 4  # a recomputed criterion on fewer seeds cannot confirm a verdict
COMPUTED = ("seeds", "probes", *MODEL_RULES)  # what basis() computes; the rest is supplied


@dataclass(frozen=True)
class Basis:
    """What a claim's verdict stands on: its ``checks`` (the registry's preconditions, in its
    order), the compared models ``below`` a per-model rule, the compared ``seeds`` and what the
    compared models' validation accuracy shows (``held_out``, reported beside every verdict)."""

    checks: list[pre.Check]
    below: list[Transferred] = field(default_factory=list)
    seeds: tuple[int, ...] = ()
    held_out: str = ""


def basis(cid: str, records: Iterable[Mapping], probes: Iterable[tuple[Mapping, str]] = (),
          seeds: Iterable[int] = (), fewest: int | None = None,
          names: tuple[str, ...] | None = None, **supplied: pre.Check) -> Basis:
    """The preconditions of claim ``cid`` (``names``: another claim's list, for a check the
    registry does not hold) on the compared ``records`` and their ``probes``; ``seeds`` the
    compared seeds, ``fewest`` the fewest any compared configuration has (default: all of
    them). ``supplied`` gives the checks only the experiment can compute (``headroom``,
    ``fine_tuning``); one the claim does not list, or one it lists and is not given, is a
    programming error."""
    names = CLAIMS[cid].preconditions if names is None else names
    given = {k.replace("_", "-"): v for k, v in supplied.items()}
    extra = sorted(set(given) - set(names))
    missing = [n for n in names if n not in COMPUTED and n not in given]
    if extra or missing:
        raise ValueError(f"claim {cid}: its report supplies {extra or 'nothing'} beyond the "
                         f"registry's preconditions and lacks {missing or 'nothing'}")
    records, seeds = list(records), tuple(sorted(set(seeds)))
    n = len(seeds) if fewest is None else fewest
    checks = [pre.seeds(n) if name == "seeds" else pre.probes(probes) if name == "probes"
              else model_check(name, records) if name in MODEL_RULES else given[name]
              for name in names]
    return Basis(checks, models_below(names, records), seeds, held_out(records))


def held_out(records: Iterable[Mapping]) -> str:
    """The compared models' validation accuracy in brief: the lowest, and how many are below
    the held-out rule's threshold."""
    vals = [t.val for t in compared_models(records) if t.val is not None]
    if not vals:
        return "-"
    low = sum(v < pre.MIN_VAL_ACC for v in vals)
    return f"lowest {min(vals):.3f}; {low} of {len(vals)} below {pre.MIN_VAL_ACC}"


def judge_sensitivity(rows: list[dict], rebuild: Callable[[frozenset[int]], list[dict]]
                      ) -> list[dict]:
    """Each claim row with a compared model below a per-model precondition, judged by
    docs/protocol.md §10.5: ``rebuild(seeds)`` gives the claim rows recomputed without
    ``seeds`` (computed once per set of seeds)."""
    done: dict[frozenset[int], dict[str, dict]] = {}
    out = []
    for row in rows:
        drop = frozenset(row.get("below_seeds") or ())
        if not drop:
            out.append(row)
            continue
        if drop not in done:
            done[drop] = {r["id"]: r for r in rebuild(drop)}
        out.append(_judged(row, done[drop].get(row["id"]), drop))
    return out


def _judged(row: dict, again: dict | None, drop: frozenset[int]) -> dict:
    left = sorted(set(row["compared_seeds"]) - drop)
    word = again["criterion_verdict"] if again else NOT_RUN
    sensitivity = {"seeds_dropped": sorted(drop), "seeds_left": len(left),
                   "criterion_verdict": word, "ours": again["ours"] if again else "-"}
    unmet = [p["name"] for p in row["preconditions"] if not p["met"]]
    per_model = bool(unmet) and all(name in MODEL_RULES for name in unmet)
    same = word == row["criterion_verdict"] != NOT_RUN
    k = len(row["below"])
    what = (f"without seed(s) {', '.join(map(str, sorted(drop)))} ({k} model(s) below a "
            f"per-model precondition): {word} on {len(left)} seed(s)")
    if per_model and same and len(left) >= MIN_SEEDS_LEFT:
        return {**row, "verdict": word, "robust": f"robust: {k} model(s) excluded",
                "note": what, "sensitivity": sensitivity}
    if row["verdict"] == NOT_FAIR and per_model:
        why = ("fewer than 4 seeds left" if len(left) < MIN_SEEDS_LEFT else
               "the criterion's verdict changes")
        note = f"{row['note']}; {what}: {why}"
    else:
        note = f"{row['note']}; {what}" if row.get("note") else what
    return {**row, "note": note, "sensitivity": sensitivity}
