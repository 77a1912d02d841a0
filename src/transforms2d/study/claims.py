"""The claim registry: the paper's claims C1–C8 (docs/protocol.md §7), one entry each, read by
the experiments' reports (the claim's text), ``tools/results_table.py`` (the README's results
table) and the tests. The criterion of a claim is computed by its experiment's aggregate,
because it names the profile's sizes (levels, samples, nested sets); ``criterion`` here is its
summary.

Adding a claim: one :func:`register_claim` call here, and the aggregate that judges it
returning ``common.claim(CLAIMS[id].id, CLAIMS[id].text, ...)`` with its preconditions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimInfo:
    """One claim of the paper.

    Attributes:
        id: ``"C1"`` … ``"C8"``, ``"C6α"``, ``"C6β"`` (E2's two axes).
        experiment: the experiment whose runs judge it (``"e1"`` … ``"e4"``).
        text: the claim as the reports state it.
        short: a few words, for one-line summaries (the README's table).
        criterion: what must hold, in brief (the report states it exactly, with its sizes).
        preconditions: the names of what makes its check a fair test, declared before the runs
            (docs/protocol.md §10.4; the rules: ``study/preconditions.RULES``); its report
            checks exactly these.
    """

    id: str
    experiment: str
    text: str
    short: str
    criterion: str
    preconditions: tuple[str, ...]


CLAIMS: dict[str, ClaimInfo] = {}  # in the paper's order

# docs/protocol.md §10.4: held-out accuracy only where generalisation is not what the claim
# varies or measures
BASE = ("seeds", "fit", "memorisation", "held-out", "probes", "headroom")
NO_HELD_OUT = ("seeds", "fit", "memorisation", "probes", "headroom")


def register_claim(cid: str, experiment: str, text: str, short: str, criterion: str,
                   preconditions: tuple[str, ...] = BASE) -> ClaimInfo:
    if cid in CLAIMS:
        raise ValueError(f"claim {cid!r} is already registered")
    CLAIMS[cid] = ClaimInfo(cid, experiment, text, short, criterion, tuple(preconditions))
    return CLAIMS[cid]


def claims_of(experiment: str) -> list[ClaimInfo]:
    """The registered claims an experiment judges, in order."""
    return [c for c in CLAIMS.values() if c.experiment == experiment]


register_claim("C1", "e1", "Matching invariance beats mismatching by a wide margin.",
               "matching invariance beats mismatching",
               "same - disjoint target probe accuracy > 0 (default configuration)")
register_claim("C2", "e1", "The invariance gap exceeds the spread due to architecture.",
               "gap > architecture spread",
               "mean gap over the architectures - range of the disjoint accuracy > 0")
register_claim("C3", "e1", "The invariance gap exceeds the spread due to the number of "
               "pretraining samples.", "gap > pretraining-samples spread",
               "mean gap over the sample counts - range of the disjoint accuracy > 0", NO_HELD_OUT)
register_claim("C4", "e1", "Same transforms with other classes beat other transforms with the "
               "same classes.", "same transforms beat same classes",
               "same transforms, other classes - disjoint transforms, same classes > 0")
register_claim("C5", "e1", "The gap shrinks when many target samples are available for full "
               "fine-tuning.", "fine-tuning shrinks the gap",
               "linear-probe gap - full fine-tuning gap > 0",
               BASE + ("fine-tuning",))
register_claim("C6", "e2", "Invariance to irrelevant features harms transfer to tasks that "
               "need them.", "irrelevant invariance harms transfer",
               "the C+O/C model: more invariant to the object, worse on C+O/O, than C/C",
               NO_HELD_OUT)
register_claim("C6α", "e2", "More label correlation makes a model rely on the object: less "
               "invariant to it, better transfer to tasks that need it.",
               "label correlation", "slope of the C+O/O accuracy over α > 0", NO_HELD_OUT)
register_claim("C6β", "e2", "More availability of an irrelevant object makes a model more "
               "invariant to it and transfer worse to tasks that need it.",
               "object availability", "slope of the C+O/O accuracy over β < 0", NO_HELD_OUT)
register_claim("C7", "e3", "Invariance learned to τ transfers to new objects and new domains, "
               "weakening with the shift; other transforms give no more invariance to τ than "
               "none.", "invariance transfers; others ≈ none",
               "(a) None - Same > 0, (b) weakening with the shift, (c) None - Other <= 0.05 "
               "(one-sided: other transforms may give less invariance, not more than 0.05 "
               "more)", ("seeds", "learned-or-capped", "memorisation", "headroom"))
register_claim("C8", "e4", "Transfer stays near the ceiling when the target's transforms are a "
               "subset of the pretraining transforms and falls with every missing one.",
               "subset targets near ceiling",
               "subset cells near their best, falling with each missing transform")
