"""The preconditions of a fair test (``transforms2d.study.preconditions``), on synthetic run
records: each check met and unmet, the E3 plateau rule, the probe-convergence rule on
converged and still-falling loss curves, the verdict of :func:`judge`, and claim rows built
with checks (``study.common.claim`` / ``Collected.checks``)."""

from __future__ import annotations

import math

import pytest

from transforms2d.reporting.report import PRECONDITION_KEYS, check_outputs
from transforms2d.study import preconditions as pre
from transforms2d.study.claims import CLAIMS
from transforms2d.study.common import Collected, claim
from transforms2d.study.judging import basis, judge_sensitivity
from transforms2d.study.model_checks import model_check

FLAT = [1.0 * 0.5 ** min(i, 20) + 0.3 for i in range(100)]  # settled at 0.3 long before the end
FALLING = [2.0 - 0.01 * i for i in range(100)]  # still 1% an epoch at the end


def record(h: str, acc: float | None = 0.99, history: list[float] | None = None,
           probes: dict | None = None, val: float | None = -1.0,
           val_history: list[float] | None = None) -> dict:
    """A done run named ``h``: final pretraining training accuracy ``acc`` and validation
    accuracy ``val`` (default: ``acc``; None: not recorded), their histories ``history`` and
    ``val_history`` (default: a rise to ``acc``, and the validation one alike) and probe
    results ``probes``."""
    val = acc if val == -1.0 else val
    history = history if history is not None else [acc / 2, acc] if acc is not None else []
    val_history = history if val_history is None else val_history
    final = {} if acc is None else {"train_acc": acc, "val_acc": val, "loss": 0.1}
    pretrain = {"final": final,
                "history": [{"epoch": i, "train_acc": a, "val_acc": v}
                            for i, (a, v) in enumerate(zip(history, val_history))]}
    return {"hash": h, "spec": None, "result": {"pretrain": pretrain, "probes": probes or {}}}


# -- seeds -------------------------------------------------------------------------------------
def test_seeds():
    assert pre.MIN_SEEDS == 5
    met = pre.seeds(5)
    assert met == pre.Check("seeds", pre.RULES["seeds"], "5 seed(s)", True)
    assert pre.seeds(10).met and pre.seeds(10).observed == "10 seed(s)"
    short = pre.seeds(3)
    assert not short.met and short.observed == "3 seed(s), 2 short"
    assert not pre.seeds(0).met and pre.seeds(0).observed == "0 seed(s), 5 short"


def test_a_check_is_what_the_report_validates():
    c = pre.seeds(5)
    assert tuple(c.to_dict()) == PRECONDITION_KEYS
    assert c.to_dict() == {"name": "seeds", "requirement": pre.RULES["seeds"],
                           "observed": "5 seed(s)", "met": True}


# -- pretraining -------------------------------------------------------------------------------
def test_plateaued():
    assert pre.PLATEAU_WINDOW == 0.25 and pre.PLATEAU_GAIN == 0.01

    def rows(accs):
        return [{"train_acc": a} for a in accs]
    # 8 epochs: the last max(4, 2) = 4 against the 4 before
    assert pre.plateaued(rows([0.1, 0.3, 0.5, 0.55, 0.55, 0.54, 0.55, 0.55]))
    assert pre.plateaued(rows([0.1, 0.3, 0.5, 0.55, 0.50, 0.52, 0.559, 0.54]))  # +0.009
    assert not pre.plateaued(rows([0.1, 0.3, 0.5, 0.55, 0.50, 0.52, 0.561, 0.54]))  # +0.011
    assert not pre.plateaued(rows([0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65]))  # rising
    assert pre.plateaued(rows([0.6, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5]))  # fell: no gain
    # 20 epochs: the window is the last 5
    noisy = [0.2 + 0.02 * i for i in range(15)] + [0.47, 0.45, 0.48, 0.46, 0.47]
    assert pre.plateaued(rows(noisy))  # best of the last 5 (0.48) < 0.48 (epoch 14) + 0.01
    assert not pre.plateaued(rows(noisy[:-1] + [0.50]))
    # too short to tell: at most 4 epochs never count as a plateau
    assert not pre.plateaued(rows([0.5] * 4)) and not pre.plateaued([])
    assert pre.plateaued(rows([0.5] * 5))


def test_loss_change_converged_and_still_falling():
    assert pre.PROBE_WINDOW == 0.1 and pre.PROBE_REL_TOL == 0.01 and pre.PROBE_ABS_TOL == 1e-3
    rel, ok = pre.loss_change(FLAT)
    assert ok and rel < 1e-6
    rel, ok = pre.loss_change(FALLING)  # window: the last 10 epochs, 5 against 5
    first, second = sum(FALLING[-10:-5]) / 5, sum(FALLING[-5:]) / 5
    assert not ok and rel == pytest.approx((first - second) / first)
    assert rel > pre.PROBE_REL_TOL
    # separable: the loss falls towards 0; a large relative change of a tiny loss converged
    separable = [0.5 * 0.8 ** i for i in range(100)]
    rel, ok = pre.loss_change(separable)
    assert ok and rel > 0.5
    assert not pre.loss_change([0.5 * 0.98 ** i for i in range(100)])[1]  # ~0.07: not yet
    # a plateau with noise below 1%
    noisy = [0.7 + 0.001 * (-1) ** i for i in range(50)]
    assert pre.loss_change(noisy)[1]
    # rising loss is a change too
    assert not pre.loss_change(list(reversed(FALLING)))[1]


def test_loss_change_of_short_curves():
    assert pre.loss_change([]) == (math.inf, False)
    assert pre.loss_change([0.4]) == (math.inf, False)
    assert pre.loss_change([0.4, 0.4]) == (0.0, True)  # the window is at least 2 epochs
    rel, ok = pre.loss_change([1.0, 0.5])
    assert rel == pytest.approx(0.5) and not ok


def probe(curve, acc=0.9, ft=None, ft_curve=None):
    """A probe result with loss curve ``curve``; fine-tuned to training accuracy ``ft`` along
    ``ft_curve`` (default: a steady rise to ``ft`` over 10 epochs) when given."""
    out = {"test_acc": acc, "train_acc": acc, "loss_curve": curve}
    if ft is None:
        return out
    ft_curve = [ft * (i + 1) / 10 for i in range(10)] if ft_curve is None else ft_curve
    return {**out, "finetune": {"train_acc": ft, "test_acc": ft, "train_acc_curve": ft_curve}}


def test_probes_met_and_unmet():
    a = record("a", probes={"p": probe(FLAT), "q": probe(FLAT[:50])})
    b = record("b", probes={"p": probe(FALLING)})
    met = pre.probes([(a, "p"), (a, "q"), (a, "p")])  # a pair named twice counts once
    assert met.met and met.name == "probes" and met.requirement == pre.RULES["probes"]
    assert met.observed.startswith("2 of 2 converged (2 by the loss, 0 by the accuracies); "
                                   "largest relative loss change ")
    assert met.observed.endswith("; 2 without an accuracy curve (judged by the loss)")
    unmet = pre.probes([(a, "p"), (b, "p")])
    assert not unmet.met and unmet.observed.startswith("1 of 2 converged")
    rel = pre.loss_change(FALLING)[0]
    assert f"largest relative loss change {rel:.2%}; " in unmet.observed
    # a probe without a loss curve (or missing altogether) has not shown convergence
    old = record("c", probes={"p": {"test_acc": 0.9}})
    assert not pre.probes([(a, "p"), (old, "p")]).met
    assert not pre.probes([(a, "missing")]).met
    none = pre.probes([])
    assert not none.met and none.observed == "no probe results"



def lbfgs(converged=True, grad_max=5e-7):
    return {"test_acc": 0.9, "train_acc": 0.95, "loss_curve": [],
            "solver": {"converged": converged, "grad_max": grad_max, "objective": 0.2,
                       "iterations": 40, "evaluations": 45, "tol": 1e-6}}


def test_lbfgs_probes_are_judged_by_the_solver():
    a = record("a", probes={"p": lbfgs(), "q": lbfgs(grad_max=1e-8)})
    met = pre.probes([(a, "p"), (a, "q")])
    assert met.met and met.observed == ("2 of 2 L-BFGS probe(s) converged; largest final "
                                        "gradient entry 5.0e-07")
    # no loss slope enters: an empty loss curve does not matter, the optimality test does
    b = record("b", probes={"p": lbfgs(converged=False, grad_max=3e-4)})
    unmet = pre.probes([(a, "p"), (b, "p")])
    assert not unmet.met and unmet.observed.startswith("1 of 2 L-BFGS probe(s) converged")
    assert "3.0e-04" in unmet.observed
    # a mix: Adam probes keep their own rule beside it
    c = record("c", probes={"p": probe(FALLING)})
    mixed = pre.probes([(a, "p"), (c, "p")])
    assert not mixed.met and "; 0 of 1 converged" in mixed.observed


# -- headroom ----------------------------------------------------------------------------------
def test_headroom():
    assert pre.HEADROOM == 0.01
    moving = {("m", 1): {0: 0.7, 1: 0.8}, ("m", 2): {0: 1.0, 1: 1.0}}
    ok = pre.headroom("O/O accuracy", moving, 0.1, 1.0)
    assert ok.met and ok.name == "headroom" and ok.requirement == pre.RULES["headroom"]
    assert ok.observed == ("O/O accuracy: cell means 0.750 to 1.000; 1 of 2 cell(s) inside "
                           "(0.110, 0.990), 1 varying across seeds")
    # at the ceiling on every cell, no variance: the measure cannot move
    stuck = pre.headroom("O/O accuracy", {("m", 1): {0: 1.0, 1: 1.0}, ("m", 2): {0: 1.0}},
                         0.1, 1.0)
    assert not stuck.met and stuck.observed.startswith("O/O accuracy: cell means 1.000; 0 of 2")
    # inside its range but identical on every seed: no spread to judge by
    constant = pre.headroom("l2", {"a": {0: 0.5, 1: 0.5}, "b": {0: 0.3, 1: 0.3}}, 0.0)
    assert not constant.met and constant.observed.endswith("above 0.010, 0 varying across seeds")
    # 0.995 is within HEADROOM of the ceiling: not inside
    assert not pre.headroom("acc", {"a": {0: 0.99, 1: 1.0}}, 0.0, 1.0).met
    assert pre.headroom("acc", {"a": {0: 0.97, 1: 1.0}}, 0.0, 1.0).met
    # near the floor: a measure unbounded above still needs to leave its floor
    assert not pre.headroom("l2", {"a": {0: 0.0, 1: 0.01}}, 0.0).met
    empty = pre.headroom("l2", {}, 0.0)
    assert not empty.met and empty.observed == "l2: no results"


def points(epochs, every, acc_at):
    """An accuracy curve recorded every ``every`` epochs, ``acc_at(epoch)`` for each split."""
    marks = [*range(every, epochs + 1, every)] + ([epochs] if epochs % every else [])
    return [{"epoch": e, "train_acc": acc_at(e), "val_acc": None, "test_acc": acc_at(e) - 0.05}
            for e in marks]


def test_accuracy_change_over_the_window():
    assert pre.PROBE_ACC_TOL == 0.005
    flat = points(100, 5, lambda e: 0.99 if e >= 60 else 0.5)
    assert pre.accuracy_change(flat, 100) == (0.0, True)
    # window = epochs 90..100; a rise of 0.004 there is settled, 0.006 is not
    assert pre.accuracy_change(points(100, 5, lambda e: 0.9 + 0.004 * (e >= 95)), 100)[1]
    change, ok = pre.accuracy_change(points(100, 5, lambda e: 0.9 + 0.006 * (e >= 95)), 100)
    assert not ok and change == pytest.approx(0.006)
    # a fall counts as much as a rise, and the test accuracy counts as much as the training one
    drop = [dict(p, test_acc=p["test_acc"] - 0.01 * (p["epoch"] == 100)) for p in flat]
    assert not pre.accuracy_change(drop, 100)[1]
    # the window's start (90) not recorded (every 7 epochs): compared from the last point
    # before it (84), so a rise between 84 and 90 counts: stricter, never looser
    late_rise = points(100, 7, lambda e: 0.9 + 0.006 * (e >= 85))
    assert 90 not in [p["epoch"] for p in late_rise]
    change, ok = pre.accuracy_change(late_rise, 100)
    assert not ok and change == pytest.approx(0.006)
    # nothing to compare: no curve, a curve that ends early, a window starting at epoch 0
    assert pre.accuracy_change([], 100) == (None, False)
    assert pre.accuracy_change(points(50, 5, lambda e: 0.9), 100) == (None, False)
    assert pre.accuracy_change(points(2, 1, lambda e: 0.9), 2) == (None, False)


def test_probes_converged_by_their_accuracies():
    settled = {**probe(FALLING), "acc_curve": points(len(FALLING), 5, lambda e: 0.98)}
    moving = {**probe(FALLING), "acc_curve": points(len(FALLING), 5, lambda e: e / 1000)}
    a = record("a", probes={"p": settled, "q": probe(FLAT)})
    met = pre.probes([(a, "p"), (a, "q")])
    assert met.met and "(1 by the loss, 1 by the accuracies)" in met.observed
    assert met.observed.endswith("largest accuracy change 0.000; 1 without an accuracy curve "
                                 "(judged by the loss)")
    b = record("b", probes={"p": moving})
    unmet = pre.probes([(a, "p"), (b, "p")])
    assert not unmet.met and unmet.observed.startswith("1 of 2 converged")


def test_finetuning_met_and_unmet():
    a = record("a", probes={"ft": probe(FLAT, ft=0.97)})
    b = record("b", probes={"ft": probe(FLAT, ft=0.80)})
    met = pre.finetuning([(a, "ft")])
    assert met.met and met.name == "fine-tuning" and met.requirement == pre.RULES["fine-tuning"]
    assert met.observed == "lowest 0.970; 0 of 1 fine-tuned model(s) below 0.95, 0 of them " \
        "still rising"
    unmet = pre.finetuning([(a, "ft"), (b, "ft")])
    assert not unmet.met and "1 of 2 fine-tuned model(s) below 0.95, 1 of them still rising" \
        in unmet.observed
    # below the threshold but its training accuracy stopped rising: fine-tuned as far as it goes
    flat = record("d", probes={"ft": probe(FLAT, ft=0.80, ft_curve=[0.4, 0.7] + [0.8] * 10)})
    assert pre.finetuning([(a, "ft"), (flat, "ft")]).met
    no_ft = record("c", probes={"ft": probe(FLAT)})  # probed, never fine-tuned
    assert not pre.finetuning([(no_ft, "ft")]).met
    assert pre.finetuning([(no_ft, "ft")]).observed == "no results"


# -- the verdict -------------------------------------------------------------------------------
def test_judge():
    rising = model("a", 0, fit=0.8)
    rising["result"]["pretrain"]["history"] = [{"fit_acc": 0.1 * i, "train_acc": 0.1 * i}
                                               for i in range(9)]  # still gaining at its end
    ok, low = pre.seeds(5), model_check("fit", [rising])
    few = pre.seeds(3)
    assert not low.met and low.observed.startswith("lowest fit 0.800")
    assert pre.judge("pass", None, []) == ("pass", None)
    assert pre.judge("pass", None, [ok]) == ("pass", None)
    assert pre.judge("fail", "failed: (a)", [ok]) == ("fail", "failed: (a)")
    verdict, note = pre.judge("pass", None, [ok, low])
    assert verdict == "not a fair test"
    assert note == f"unmet: fit: {low.observed}; the criterion alone: pass"
    verdict, note = pre.judge("fail", None, [few, ok, low])
    assert verdict == "not a fair test"
    assert note == (f"unmet: seeds: {few.observed}; fit: {low.observed}; the "
                    f"criterion alone: fail")
    # a criterion that could not be computed stays "not run", with its own note
    assert pre.judge("not run", "needs >= 2 seeds, got 1", [few]) == (
        "not run", "needs >= 2 seeds, got 1")
    joint = pre.joint(pre.seeds(5), pre.seeds(3))
    assert joint.name == "seeds" and not joint.met and joint.observed.count("seed(s)") == 2


def model(h: str, seed: int, fit: float = 0.99, val: float | None = None, probes=None) -> dict:
    """A done run of seed ``seed`` whose transferred weights fit ``fit`` (validation ``val``,
    default the same) on a 10-class source, after a long plateau (so a low fit is capped,
    not rising)."""
    val = fit if val is None else val
    history = [{"epoch": i, "train_acc": fit, "fit_acc": fit, "val_acc": val} for i in range(20)]
    return {"hash": h, "spec": None, "result": {
        "spec": {"seed": seed, "model": "resnet_s", "source": {}},
        "pretrain": {"final": history[-1], "history": history, "num_classes": 10},
        "probes": probes or {}}}


def test_claim_rows_carry_their_basis():
    rows = [model("a", 0), model("b", 1, fit=0.99, val=0.3)]  # b memorised its source
    b = basis("C1", rows, seeds=[0, 1], fewest=5, headroom=pre.Check("headroom", "r", "o", True))
    assert [c.name for c in b.checks] == list(CLAIMS["C1"].preconditions)
    row = claim("C1", "text", "x > 0", "pass", "0.1", "0.2", basis=b)
    assert row["verdict"] == "not a fair test" and row["criterion_verdict"] == "pass"
    assert [p["name"] for p in row["preconditions"] if not p["met"]] == [
        "memorisation", "held-out", "probes"]  # no probe results either
    assert row["criterion"] == "x > 0 (intervals: 95% Student-t interval of the mean of " \
        "per-seed values)"
    assert row["below_seeds"] == [1] and row["below"][0].startswith("seed 1 resnet_s b ")
    assert row["compared_seeds"] == [0, 1] and row["held_out"] == "lowest 0.300; 1 of 2 below 0.9"
    out = check_outputs({"claims": [row]}, "test")
    assert out["claims"][0]["preconditions"] == row["preconditions"]
    plain = claim("C9", "text", "x > 0", "fail", "0.1", "0.2", note="why")
    assert (plain["verdict"], plain["note"], plain["preconditions"]) == ("fail", "why", [])
    assert plain["direction"] == "opposite"
    assert claim("C9", "t", "x", "fail", "", "", bound_failed=True)["direction"] == \
        "margin exceeded, same direction"


def test_basis_checks_exactly_what_the_registry_lists():
    head = pre.Check("headroom", "r", "o", True)
    with pytest.raises(ValueError, match="lacks \\['headroom'\\]"):
        basis("C1", [model("a", 0)])
    with pytest.raises(ValueError, match="supplies \\['fine-tuning'\\]"):
        basis("C1", [model("a", 0)], headroom=head, fine_tuning=head)
    tuned = pre.Check("fine-tuning", "r", "o", True)
    assert [c.name for c in basis("C5", [], headroom=head, fine_tuning=tuned).checks] == list(
        CLAIMS["C5"].preconditions)
    c7 = basis("C7", [model("a", 0, fit=0.5)], seeds=[0], headroom=head)
    assert [c.name for c in c7.checks] == ["seeds", "learned-or-capped", "memorisation",
                                           "headroom"]
    assert not c7.below  # capped: its validation stopped rising


def test_collected_basis_reads_the_runs_behind_the_compared_cells():
    col = Collected()
    flat = {"p": probe(FLAT)}
    good = [model(f"g{s}", s, probes=flat) for s in range(5)]
    weak = [model(f"w{s}", s, fit=0.99 if s else 0.6, probes=flat) for s in range(5)]
    for s in range(5):
        col.put(("a",), s, 0.9, good[s], "p")
        col.put(("b",), s, 0.8, weak[s], "p")
        col.put(("c",), s, None, weak[s], "p")  # a missing value brings no run
    col.put(("d",), 0, 0.5, good[0], "p")
    head = pre.Check("headroom", "r", "o", True)
    assert col.seeds([("a",), ("b",)]) == 5 and col.seeds([("a",), ("d",)]) == 1
    assert col.seeds([("a",), ("c",)]) == 0 and col.seeds([]) == 0
    assert all(c.met for c in col.basis([("a",)], "C1", headroom=head).checks)
    b = col.basis([("a",), ("b",)], "C1", headroom=head)
    assert [c.name for c in b.checks if not c.met] == ["held-out"]  # 0.6: capped, not rising
    assert [t.hash for t in b.below] == ["w0"] and b.seeds == (0, 1, 2, 3, 4)
    assert [c.name for c in col.basis([("a",), ("d",)], "C1", headroom=head).checks
            if not c.met] == ["seeds"]
    assert len(col.runs([("a",), ("b",)])) == 10 and len(col.probes([("a",)])) == 5
    less = col.without([0, 3])
    assert less.get(("a",)) == {1: 0.9, 2: 0.9, 4: 0.9} and ("d",) not in less.values
    assert [r["hash"] for r in less.runs([("b",)])] == ["w1", "w2", "w4"]


def _row(cid: str, verdict: str, unmet: tuple[str, ...], below: list[int], seeds=range(5)):
    checks = [{"name": n, "requirement": "r", "observed": "o", "met": n not in unmet}
              for n in ("seeds", "fit", "held-out", "probes")]
    judged, note = pre.judge(verdict, None, [pre.Check(**c) for c in checks])
    return {"id": cid, "verdict": judged, "criterion_verdict": verdict, "note": note,
            "preconditions": checks, "below": [f"m{s}" for s in below], "below_seeds": below,
            "compared_seeds": list(seeds), "ours": "x"}


def test_the_sensitivity_rule():
    """docs/protocol.md §10.5, on claim rows: the criterion recomputed without the seeds of the
    models below decides between robust and not a fair test."""
    asked = []

    def rebuild(drop):
        asked.append(drop)
        return [{"id": "A", "criterion_verdict": "pass", "ours": "a"},
                {"id": "B", "criterion_verdict": "inconclusive", "ours": "b"},
                {"id": "C", "criterion_verdict": "pass", "ours": "c"}]
    rows = [_row("A", "pass", ("fit",), [2]), _row("B", "pass", ("held-out",), [2]),
            _row("C", "pass", ("fit", "probes"), [2]), _row("D", "fail", (), []),
            _row("E", "pass", ("fit",), [1, 2])]
    a, b, c, d, e = judge_sensitivity(rows, rebuild)
    assert (a["verdict"], a["robust"]) == ("pass", "robust: 1 model(s) excluded")
    assert a["sensitivity"] == {"seeds_dropped": [2], "seeds_left": 4,
                                "criterion_verdict": "pass", "ours": "a"}
    assert b["verdict"] == "not a fair test" and b["note"].endswith(
        "inconclusive on 4 seed(s): the criterion's verdict changes")
    assert c["verdict"] == "not a fair test" and "robust" not in c  # probes unmet: no rescue
    assert d == rows[3]  # nothing below: untouched
    assert e["verdict"] == "not a fair test" and e["note"].endswith("fewer than 4 seeds left")
    assert asked == [frozenset({2}), frozenset({1, 2})]  # once per set of seeds
