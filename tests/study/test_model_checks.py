"""The per-model preconditions of docs/protocol.md §10.4, on synthetic run results: each rule
is exercised on a model that meets it and one that misses it by a little."""

from __future__ import annotations

import pytest

from transforms2d.study.model_checks import (
    MODEL_RULES,
    model_check,
    models_below,
    transferred,
)
from transforms2d.study.preconditions import RULES


def record(fit=0.99, val=0.95, classes=10, seed=0, curve=None, running=None, val_curve=None,
           h=None):
    """A run whose transferred weights show ``fit`` and ``val`` (``fit=None``: a run from before
    the fit was measured, read on ``running``), after ``curve`` (fit per epoch; default a steady
    rise) and ``val_curve`` (validation, default a steady rise)."""
    top = fit if fit is not None else running
    curve = curve or [top * (i + 1) / 20 for i in range(20)]
    val_curve = val_curve or [val * (i + 1) / len(curve) for i in range(len(curve))]
    hist = [{"epoch": i, "train_acc": running or a, "val_acc": v,
             **({"fit_acc": a} if fit is not None else {})}
            for i, (a, v) in enumerate(zip(curve, val_curve))]
    pre = {"history": hist, "final": dict(hist[-1]), "num_classes": classes}
    return {"hash": h or f"{seed:04d}{fit}{val}", "result": {
        "spec": {"seed": seed, "model": "resnet_s", "source": {}}, "pretrain": pre}}


def test_every_model_rule_is_declared():
    assert set(MODEL_RULES) <= set(RULES)


def test_the_fit_is_read_on_the_transferred_weights_or_the_running_accuracy():
    t = transferred(record(fit=0.97, val=0.9))
    assert t.measured and t.fit == pytest.approx(0.97) and t.chance == pytest.approx(0.1)
    old = transferred(record(fit=None, val=0.9, curve=[0.5] * 5, running=0.93))
    assert not old.measured and old.fit == 0.93


@pytest.mark.parametrize("rule,good,bad", [
    ("fit", dict(fit=0.95), dict(fit=0.94)),
    ("held-out", dict(val=0.90), dict(val=0.899)),
    # chance 0.1: fit 0.99 needs validation >= 0.1 + 0.89 / 2 = 0.545
    ("memorisation", dict(fit=0.99, val=0.55), dict(fit=0.99, val=0.54)),
    ("learned-or-capped", dict(fit=0.95, val=0.9), dict(fit=0.95, val=0.85)),
])
def test_each_rule_separates_a_model_that_meets_it_from_one_that_misses(rule, good, bad):
    assert model_check(rule, [record(**good)]).met
    miss = model_check(rule, [record(**bad, seed=3)])
    assert not miss.met and "1 of 1 model(s) below: seed 3 resnet_s" in miss.observed


def test_a_plateau_counts_as_fitted_a_rise_does_not():
    flat = [0.6] * 5 + [0.8] * 20  # 20 epochs at 0.8: stopped rising
    assert model_check("fit", [record(fit=0.8, curve=flat)]).met
    rising = [0.5 + 0.01 * i for i in range(30)]
    assert not model_check("fit", [record(fit=0.79, curve=rising)]).met
    # learned-or-capped reads the plateau on validation accuracy: flat here
    assert model_check("learned-or-capped", [record(fit=0.8, val=0.5, curve=rising,
                                                    val_curve=[0.5] * 30)]).met


def test_models_below_and_the_check_name_each_model_once():
    runs = [record(seed=s, fit=0.99 if s != 2 else 0.9) for s in range(5)]
    runs.append(runs[0])  # a run shared by two cells
    below = models_below(("fit", "held-out", "probes"), runs)
    assert [t.seed for t in below] == [2]
    check = model_check("fit", runs)
    assert "1 of 5 model(s) below" in check.observed
    assert model_check("fit", []).observed == "no results"
    old = model_check("fit", [record(fit=None, running=0.97)])
    assert "1 without a fit on the transferred weights" in old.observed
