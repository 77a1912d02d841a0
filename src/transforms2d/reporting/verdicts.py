"""The words a report judges with (docs/protocol.md §10.7): one named set, read by the
statistics that reach a verdict, the claim rows, the Markdown and HTML reports.

A verdict says what the criterion gave on a fair test; the *direction* beside it says where the
estimate lies relative to the paper, preconditions aside. A bound criterion (C7 (c), C8 (a):
"at most 0.05 apart") that fails was exceeded by an effect in the paper's own direction, which
"opposite" would misstate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PASS = "pass"
FAIL = "fail"
INCONCLUSIVE = "inconclusive"
NOT_FAIR = "not a fair test"
NOT_RUN = "not run"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, NOT_FAIR, NOT_RUN)

AGREES = "agrees"
OPPOSITE = "opposite"
EXCEEDED = "margin exceeded, same direction"
UNCLEAR = "unclear (interval holds the threshold)"
NO_DIRECTION = "-"
DIRECTIONS = (AGREES, OPPOSITE, EXCEEDED, UNCLEAR, NO_DIRECTION)

#: a verdict's colour in the HTML report
COLOURS = {PASS: "#1a7f37", FAIL: "#cf222e", INCONCLUSIVE: "#8250df", NOT_FAIR: "#bf8700",
           NOT_RUN: "#6e7781"}


def direction(verdict: str, bound_failed: bool = False) -> str:
    """The direction word of a criterion's own verdict: ``bound_failed`` when every failing
    part of it is a bound (a margin exceeded in the paper's direction)."""
    if verdict == FAIL:
        return EXCEEDED if bound_failed else OPPOSITE
    return {PASS: AGREES, INCONCLUSIVE: UNCLEAR}.get(verdict, NO_DIRECTION)


def combine(verdicts: Iterable[str]) -> str:
    """One verdict of several parts: ``not run`` if any part is, else ``fail`` if any part
    fails, else ``inconclusive`` if any part is, else ``pass``."""
    vs = list(verdicts)
    for word in (NOT_RUN, FAIL, INCONCLUSIVE):
        if word in vs:
            return word
    return PASS


def precondition_rows(claims: Iterable[Mapping]) -> list[dict]:
    """What the verdicts stand on, one row per precondition and observation with the claims it
    covers (``claims``: a list of ids), in first-seen order."""
    rows: dict[tuple, dict] = {}
    for c in claims:
        for p in c.get("preconditions") or []:
            key = (p["name"], p["observed"], p["met"])
            rows.setdefault(key, {"precondition": p["name"], "claims": [],
                                  "requirement": p["requirement"], "observed": p["observed"],
                                  "met": bool(p["met"])})["claims"].append(c["id"])
    return list(rows.values())
