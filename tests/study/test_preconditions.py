"""The preconditions of a fair test (``transforms2d.study.preconditions``), on synthetic run
records: each check met and unmet, the E3 plateau rule, the probe-convergence rule on
converged and still-falling loss curves, the verdict of :func:`judge`, and claim rows built
with checks (``study.common.claim`` / ``Collected.checks``)."""

from __future__ import annotations

import math

import pytest

from transforms2d.reporting.report import PRECONDITION_KEYS, check_outputs
from transforms2d.study import preconditions as pre
from transforms2d.study.common import Collected, claim

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
def test_pretraining_met_and_unmet():
    met = pre.pretraining([record("a", 0.99), record("b", 0.96), record("c", 0.95)])
    assert met.met and met.name == "pretraining" and met.requirement == pre.RULES["pretraining"]
    # the thresholds are met
    assert met.observed == ("lowest training 0.950, lowest validation 0.950; 0 of 3 model(s) "
                            "below 0.95 / 0.9")
    unmet = pre.pretraining([record("a", 0.99), record("b", 0.90), record("c", 0.93)])
    assert not unmet.met
    assert unmet.observed == ("lowest training 0.900, lowest validation 0.900; 2 of 3 model(s) "
                              "below 0.95 / 0.9")
    # a model that memorises its training set: training accuracy met, validation not
    memorised = pre.pretraining([record("a", 0.99), record("m", 1.0, val=0.31)])
    assert not memorised.met and "lowest validation 0.310; 1 of 2" in memorised.observed
    assert pre.pretraining([record("a", 0.99, val=0.90)]).met  # 0.90 is enough
    # a model without a recorded validation accuracy has not shown it generalises
    blind = pre.pretraining([record("a", 0.99, val=None)])
    assert not blind.met and "validation - (none recorded)" in blind.observed


def test_pretraining_counts_each_run_once_and_needs_results():
    a, b = record("a", 0.99), record("b", 0.5)
    assert pre.pretraining([a, a, a]).observed == ("lowest training 0.990, lowest validation "
                                                   "0.990; 0 of 1 model(s) below 0.95 / 0.9")
    assert "1 of 2" in pre.pretraining([a, b, b, a]).observed
    for records in ([], [record("x", None)]):
        empty = pre.pretraining(records)
        assert not empty.met and empty.observed == "no results"
    # a run without a final accuracy is left out, the others decide
    assert pre.pretraining([a, record("x", None)]).met


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


def test_pretraining_with_the_plateau_rule():
    flat = [0.2, 0.4, 0.5, 0.52, 0.52, 0.52, 0.52, 0.52]
    rising = [0.1, 0.2, 0.3, 0.4, 0.45, 0.48, 0.50, 0.52]
    capped = [record("a", 0.99), record("noise", 0.52, flat)]
    check = pre.pretraining(capped, plateau=True)
    assert check.met and check.requirement == pre.RULES["pretraining-plateau"]
    assert check.observed == ("lowest training 0.520, lowest validation 0.520; 1 of 2 model(s) "
                              "below 0.95 / 0.9, 0 of them still rising on held-out data")
    assert not pre.pretraining(capped).met  # without the rule the capped model fails
    still = pre.pretraining([record("a", 0.99), record("slow", 0.52, rising)], plateau=True)
    assert not still.met and "1 of them still rising" in still.observed
    # the plateau is read on held-out data: a model that memorises (training accuracy at 1.0)
    # but whose validation accuracy stopped rising is capped by its task (random-pixel noise)
    memorised = record("noise", 1.0, [0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], val=0.3,
                       val_history=[0.2, 0.28, 0.3, 0.3, 0.29, 0.3, 0.3, 0.3])
    assert pre.pretraining([memorised], plateau=True).met
    assert not pre.pretraining([memorised]).met
    learning = record("noise", 1.0, [0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], val=0.3,
                      val_history=[0.05, 0.1, 0.15, 0.2, 0.22, 0.25, 0.27, 0.3])
    assert not pre.pretraining([learning], plateau=True).met
    # at the threshold the history does not matter
    assert pre.pretraining([record("a", 0.97, [0.1, 0.2, 0.5, 0.97])], plateau=True).met
    # no history: nothing shows a plateau
    assert not pre.pretraining([record("a", 0.5, [])], plateau=True).met
    empty = pre.pretraining([], plateau=True)
    assert not empty.met and empty.observed == "no results"


# -- probes and fine-tuning --------------------------------------------------------------------
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
    ok, low = pre.seeds(5), pre.pretraining([record("a", 0.8)])
    few = pre.seeds(3)
    assert pre.judge("pass", None, []) == ("pass", None)
    assert pre.judge("pass", None, [ok]) == ("pass", None)
    assert pre.judge("fail", "failed: (a)", [ok]) == ("fail", "failed: (a)")
    verdict, note = pre.judge("pass", None, [ok, low])
    assert verdict == "not a fair test"
    assert note == f"unmet: pretraining: {low.observed}; the criterion alone: pass"
    verdict, note = pre.judge("fail", None, [few, ok, low])
    assert verdict == "not a fair test"
    assert note == (f"unmet: seeds: {few.observed}; pretraining: {low.observed}; the "
                    f"criterion alone: fail")
    # a criterion that could not be computed stays "not run", with its own note
    assert pre.judge("not run", "needs >= 2 seeds, got 1", [few]) == (
        "not run", "needs >= 2 seeds, got 1")


def test_claim_rows_carry_their_checks():
    row = claim("C9", "text", "x > 0", "pass", "0.1", "0.2",
                checks=[pre.seeds(5), pre.pretraining([record("a", 0.5)])])
    assert row["verdict"] == "not a fair test"
    assert "pretraining: lowest training 0.500" in row["note"]
    assert row["criterion"] == "x > 0 (intervals: 95% percentile bootstrap over seeds)"
    assert [p["name"] for p in row["preconditions"]] == ["seeds", "pretraining"]
    assert [p["met"] for p in row["preconditions"]] == [True, False]
    out = check_outputs({"claims": [row]}, "test")
    assert out["claims"][0]["preconditions"] == row["preconditions"]
    plain = claim("C9", "text", "x > 0", "fail", "0.1", "0.2", note="why")
    assert (plain["verdict"], plain["note"], plain["preconditions"]) == ("fail", "why", [])


def test_collected_checks_the_runs_behind_the_compared_cells():
    col = Collected()
    good = [record(f"g{s}", 0.99, probes={"p": probe(FLAT)}) for s in range(5)]
    weak = [record(f"w{s}", 0.99 if s else 0.6, probes={"p": probe(FLAT)}) for s in range(5)]
    for s in range(5):
        col.put(("a",), s, 0.9, good[s], "p")
        col.put(("b",), s, 0.8, weak[s], "p")
        col.put(("c",), s, None, weak[s], "p")  # a missing value brings no run
    col.put(("d",), 0, 0.5, good[0], "p")
    assert col.seeds([("a",), ("b",)]) == 5 and col.seeds([("a",), ("d",)]) == 1
    assert col.seeds([("a",), ("c",)]) == 0 and col.seeds([]) == 0
    assert [c.name for c in col.checks([("a",)])] == ["seeds", "pretraining", "probes"]
    assert all(c.met for c in col.checks([("a",)]))
    assert [c.met for c in col.checks([("a",), ("b",)])] == [True, False, True]
    assert [c.met for c in col.checks([("a",), ("d",)])] == [False, True, True]
    assert [c.name for c in col.checks([("a",)], probes=False)] == ["seeds", "pretraining"]
    assert len(col.runs([("a",), ("b",)])) == 10 and len(col.probes([("a",)])) == 5
