"""What makes a claim's check a fair test, fixed before any number is seen.

A claim compares models; the comparison says something about the paper's claim only if those
models learned their tasks, their probes converged and enough seeds were run. Each check below
is computed from the stored runs that enter the claim; each claim checks exactly the
preconditions the claim registry lists for it (``study/claims.py``, docs/protocol.md §10.4), and
its verdict follows §10.5 (``study/judging.py``): every check met, or only per-model checks
unmet and the criterion unchanged without those models' seeds (*robust*), else **not a fair
test**, with the unmet check and by how much, whatever its criterion alone would say: a failure
of a miniature is never shown as a failure of the paper, and a pass needs the same footing.

The per-model rules (``fit``, ``memorisation``, ``held-out``, ``learned-or-capped``) read the
transferred weights and live in :mod:`.model_checks`; the thresholds here, and why:

- **seeds >= 5**: the paper used 10; with fewer than 5 an interval over seeds says little.
- **fit >= 0.95** (the eval-mode accuracy of the transferred weights on a fixed training
  subset, docs/protocol.md §10.1): the paper's ResNet-18s fit their source tasks, as their
  near-ceiling transfer to subsets of their own transformations shows (E4: ≈ 0.98–1.0; E1
  same: ≈ 0.98). A model below 0.95 and still rising has not learned its invariances.
- **linear probes converged**: the probe's mean training loss over the last 10% of its epochs
  changes by less than 1% (first half of that window against the second), or by less than
  0.001 nats once the loss is that small; **or** (restated 2026-12-03, before any run of the
  resized ``cpu`` profile; runs recorded earlier have no accuracy curve and are judged by the
  loss alone) the probe's accuracies have settled: its training, validation and test accuracy
  each changed by less than 0.005 over those last 10% of epochs. An unconverged probe
  under-reports what the frozen features support. Why the restatement: on features that
  (nearly) separate the classes, the unregularised cross-entropy has no minimiser — its loss
  keeps falling as the head's weights grow while its decisions, and so every accuracy a claim
  reports, stay put (the first complete cpu run's E1 probes: median training accuracy 0.992,
  loss still −14% over the last 50 of 500 epochs, 0 of 10 probe sets passing the loss rule).
- **fine-tuning fitted** (C5 only): the fine-tuned models reach the same 0.95 training accuracy
  on the target task.
- **E3 only: >= 0.95 or a plateau.** Some single-transform tasks destroy the information a
  model would need on part of the samples: ``noise`` (p = 0.5) replaces half of the random-pixel
  objects by other random pixels, so no model can exceed about 0.52 there (measured: a
  convnet_xs stays at 0.55 for 20 epochs). E3's claim is about the invariance a model learns
  from its training signal, so a model that stopped improving (best training accuracy of the
  last quarter of its epochs, at least 4, less than 0.01 above the best before) counts as
  trained; one still rising does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

MIN_SEEDS = 5
MIN_TRAIN_ACC = 0.95
MIN_VAL_ACC = 0.90  # held-out accuracy of a pretrained model (docs/protocol.md §9 R3)
HEADROOM = 0.01  # a measure must sit this far inside its range on some cell (R2)
PROBE_WINDOW = 0.1  # the last 10% of the probe's epochs
PROBE_REL_TOL = 0.01  # relative change of the mean loss across that window
PROBE_ABS_TOL = 1e-3  # ... or absolute change, for losses already near 0
PROBE_ACC_TOL = 0.005  # ... or every accuracy of the probe moved less than this over the window
PLATEAU_WINDOW = 0.25  # E3: the last quarter of the pretraining epochs ...
PLATEAU_GAIN = 0.01  # ... raised the best training accuracy by less than this

RULES = {
    "seeds": f">= {MIN_SEEDS} seeds on every compared configuration",
    "probes": f"every L-BFGS probe's solver converged (largest gradient entry <= its tol); an "
              f"Adam probe's training loss changes by < {PROBE_REL_TOL:.0%} (or "
              f"< {PROBE_ABS_TOL} nats) over its last {PROBE_WINDOW:.0%} of epochs, or its "
              f"train / val / test accuracies each by < {PROBE_ACC_TOL}",
    "fine-tuning": f"every fine-tuned model reaches >= {MIN_TRAIN_ACC} training accuracy on the "
                   f"target task, or stopped improving (best training accuracy of the last "
                   f"{PLATEAU_WINDOW:.0%} of its epochs < {PLATEAU_GAIN} above the best before)",
    # docs/protocol.md §10.4: per model, at the transferred epoch (study/model_checks.py)
    "fit": f"every compared model's transferred weights reach >= {MIN_TRAIN_ACC} fit (eval-mode "
           f"accuracy on a fixed training subset), or its fit stopped rising (the best of its "
           f"last 10 epochs < 0.005 above the best before)",
    "memorisation": "every compared model keeps at least half its fit's margin over chance on "
                    "held-out data: validation - chance >= (fit - chance) / 2",
    "held-out": f"every compared model reaches >= {MIN_VAL_ACC} validation accuracy",
    "learned-or-capped": f"every compared model reaches >= {MIN_TRAIN_ACC} fit and >= "
                         f"{MIN_VAL_ACC} validation accuracy, or stopped improving on held-out "
                         f"data (best validation accuracy of the last {PLATEAU_WINDOW:.0%} of "
                         f"epochs < {PLATEAU_GAIN} above the best before) where the task caps it",
    "headroom": f"every measure the criterion needs to move can: its mean over seeds lies more "
                f"than {HEADROOM} inside its range on some compared cell, and it varies across "
                f"seeds on some compared cell",
}


@dataclass(frozen=True)
class Check:
    """One precondition of one claim: the rule, what the runs show, and whether it holds."""

    name: str
    requirement: str
    observed: str
    met: bool

    def to_dict(self) -> dict:
        return asdict(self)


def seeds(n: int) -> Check:
    """At least :data:`MIN_SEEDS` seeds (``n``: the fewest any compared configuration has)."""
    return Check("seeds", RULES["seeds"], f"{n} seed(s)" + ("" if n >= MIN_SEEDS else
                 f", {MIN_SEEDS - n} short"), n >= MIN_SEEDS)


def plateaued(history: list[Mapping], key: str = "train_acc") -> bool:
    """Whether ``key`` (an accuracy of every row of ``history``) stopped rising: its best over
    the last :data:`PLATEAU_WINDOW` of the epochs (at least 4) beats the best before by less
    than :data:`PLATEAU_GAIN`."""
    accs = [row[key] for row in history if row.get(key) is not None]
    k = max(4, round(len(accs) * PLATEAU_WINDOW))
    if len(accs) <= k:
        return False
    return max(accs[-k:]) - max(accs[:-k]) < PLATEAU_GAIN


def finetuning(pairs: Iterable[tuple[Mapping, str]]) -> Check:
    """Every fine-tuned model of ``(record, probe name)`` reaches :data:`MIN_TRAIN_ACC`, or
    its training accuracy stopped rising (:func:`plateaued` over its fine-tuning epochs)."""
    found = [((r["result"]["probes"].get(p) or {}).get("finetune") or {})
             for r, p in _unique_pairs(pairs)]
    found = [f for f in found if f.get("train_acc") is not None]
    if not found:
        return Check("fine-tuning", RULES["fine-tuning"], "no results", False)
    accs = [f["train_acc"] for f in found]
    below = [f for f in found if f["train_acc"] < MIN_TRAIN_ACC]
    rising = [f for f in below if not plateaued(
        [{"train_acc": a} for a in f.get("train_acc_curve") or []])]
    text = (f"lowest {min(accs):.3f}; {len(below)} of {len(found)} fine-tuned model(s) below "
            f"{MIN_TRAIN_ACC}, {len(rising)} of them still rising")
    return Check("fine-tuning", RULES["fine-tuning"], text, not rising)


def probes(pairs: Iterable[tuple[Mapping, str]]) -> Check:
    """Every probe ``(record, probe name)`` converged: its loss settled (:func:`loss_change`)
    or its accuracies did (:func:`accuracy_change`)."""
    found = [(r["result"]["probes"].get(p) or {}) for r, p in _unique_pairs(pairs)]
    if not found:
        return Check("probes", RULES["probes"], "no probe results", False)
    solved = [pr["solver"] for pr in found if pr.get("solver")]
    if solved:  # L-BFGS probes: the solver's own optimality test
        ok = [bool(s.get("converged")) for s in solved]
        text = (f"{sum(ok)} of {len(ok)} L-BFGS probe(s) converged; largest final gradient "
                f"entry {max(s.get('grad_max', math.inf) for s in solved):.1e}")
        adam = [pr for pr in found if not pr.get("solver")]
        if not adam:
            return Check("probes", RULES["probes"], text, all(ok))
        rest = _adam_probes(adam)
        return Check("probes", RULES["probes"], f"{text}; {rest.observed}", all(ok) and rest.met)
    return _adam_probes(found)


def _adam_probes(found: list[Mapping]) -> Check:
    losses = [loss_change(pr.get("loss_curve") or []) for pr in found]
    accs = [accuracy_change(pr.get("acc_curve") or [], len(pr.get("loss_curve") or []))
            for pr in found]
    ok = [lo[1] or ac[1] for lo, ac in zip(losses, accs)]
    worst = max(lo[0] for lo in losses)
    text = (f"{sum(ok)} of {len(ok)} converged ({sum(lo[1] for lo in losses)} by the loss, "
            f"{sum(ac[1] for ac in accs)} by the accuracies); largest relative loss change "
            f"{worst:.2%}")
    known = [ac[0] for ac in accs if ac[0] is not None]
    if known:
        text += f", largest accuracy change {max(known):.3f}"
    bare = sum(not pr.get("acc_curve") for pr in found)  # runs from before accuracy curves
    if bare:
        text += f"; {bare} without an accuracy curve (judged by the loss)"
    return Check("probes", RULES["probes"], text, all(ok))


def loss_change(curve: list[float]) -> tuple[float, bool]:
    """``(relative change, converged)`` of a loss curve over its last :data:`PROBE_WINDOW`:
    the mean of the window's first half against its second half."""
    k = _window(len(curve))
    if len(curve) < k:
        return float("inf"), False
    tail = curve[-k:]
    first, second = tail[:k // 2], tail[k // 2:]
    a, b = sum(first) / len(first), sum(second) / len(second)
    rel = abs(a - b) / max(abs(a), 1e-12)
    return rel, rel < PROBE_REL_TOL or abs(a - b) < PROBE_ABS_TOL


def accuracy_change(points: list[Mapping], epochs: int) -> tuple[float | None, bool]:
    """``(largest change, settled)`` of a probe's accuracies over its last
    :data:`PROBE_WINDOW` of ``epochs``: each of train / val / test at the end against the
    last point recorded at or before the window's start (a longer window where the start was
    not recorded: stricter, never looser); ``(None, False)`` without such a point (runs recorded
    before accuracy curves existed; probes too short for a window)."""
    start = epochs - _window(epochs)
    before = [p for p in points if 0 < p["epoch"] <= start]
    if not before or points[-1]["epoch"] != epochs:
        return None, False
    a, b = before[-1], points[-1]
    moves = [abs(b[key] - a[key]) for key in ("train_acc", "val_acc", "test_acc")
             if a.get(key) is not None and b.get(key) is not None]
    if not moves:
        return None, False
    return max(moves), max(moves) < PROBE_ACC_TOL


def _window(epochs: int) -> int:
    return max(2, round(epochs * PROBE_WINDOW))


def headroom(measure: str, values: Mapping[object, Mapping[int, float]], floor: float,
             ceiling: float | None = None) -> Check:
    """Whether ``measure`` (``values``: compared cell -> seed -> value) can move
    (docs/protocol.md §9 R2): on some cell its mean over seeds lies more than :data:`HEADROOM`
    above ``floor`` and below ``ceiling`` (none: unbounded above), and on some cell it varies
    across seeds."""
    cells = {k: list(v.values()) for k, v in values.items() if v}
    if not cells:
        return Check("headroom", RULES["headroom"], f"{measure}: no results", False)
    means = [sum(v) / len(v) for v in cells.values()]
    inside = sum(m > floor + HEADROOM and (ceiling is None or m < ceiling - HEADROOM)
                 for m in means)
    varies = sum(len(v) >= 2 and max(v) > min(v) for v in cells.values())
    span = f"{min(means):.3f}" if max(means) == min(means) else \
        f"{min(means):.3f} to {max(means):.3f}"
    bounds = f"({floor + HEADROOM:.3f}, {ceiling - HEADROOM:.3f})" if ceiling is not None \
        else f"above {floor + HEADROOM:.3f}"
    text = (f"{measure}: cell means {span}; {inside} of {len(cells)} cell(s) inside {bounds}, "
            f"{varies} varying across seeds")
    return Check("headroom", RULES["headroom"], text, inside > 0 and varies > 0)


def joint(*checks: Check) -> Check:
    """One check of several of the same rule (e.g. the headroom of two measures): met when all
    are, their observations joined."""
    return Check(checks[0].name, checks[0].requirement, "; ".join(c.observed for c in checks),
                 all(c.met for c in checks))


def judge(verdict: str, note: str | None, checks: list[Check]) -> tuple[str, str | None]:
    """The reported verdict: the criterion's own (``pass`` / ``fail`` / ``not run``) when every
    check is met, else ``not a fair test`` naming the unmet checks (and what the criterion
    alone gave)."""
    unmet = [c for c in checks if not c.met]
    if verdict == "not run" or not unmet:
        return verdict, note
    why = "; ".join(f"{c.name}: {c.observed}" for c in unmet)
    alone = verdict + (f" ({note})" if note else "")
    return "not a fair test", f"unmet: {why}; the criterion alone: {alone}"


def _unique(records: Iterable[Mapping]) -> list[Mapping]:
    """Each run once (a run shared by several cells of a grid enters a check once)."""
    return list({r["hash"]: r for r in records}.values())


def _unique_pairs(pairs: Iterable[tuple[Mapping, str]]) -> list[tuple[Mapping, str]]:
    return list({(r["hash"], p): (r, p) for r, p in pairs}.values())
