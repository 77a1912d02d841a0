"""The declared stopping rules (docs/protocol.md §10.2-10.3): the fit read on the weights in eval
mode, training past the cap while still gaining, and which tied best-validation epoch is kept."""

from __future__ import annotations

import pytest

from transforms2d import ConfigError
from transforms2d.train import EvalSet, TrainConfig, evaluate, train
from transforms2d.train.loop import fit_set
from transforms2d.train.stopping import (
    EXTEND_GAIN,
    EXTEND_WINDOW,
    fit_accuracy,
    still_gaining,
    stop_reason,
)


def rows(accs, key="fit_acc"):
    return [{"train_acc": 0.0, key: a} if key != "train_acc" else {"train_acc": a}
            for a in accs]


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 12, "batch_size": 64, "progress": False, **kw})


def test_the_fit_is_read_where_measured_and_falls_back_to_the_running_accuracy():
    assert fit_accuracy({"train_acc": 0.9, "fit_acc": 0.97}) == 0.97
    assert fit_accuracy({"train_acc": 0.9}) == 0.9
    assert fit_accuracy({"train_acc": 0.9, "fit_acc": None}) == 0.9


def test_still_gaining_compares_the_last_window_with_the_best_before():
    flat = [0.5] * 5 + [0.9] * 20
    assert not still_gaining(rows(flat, "fit_acc"))
    rising = [0.5 + 0.001 * i for i in range(30)]  # 0.010 per 10 epochs
    assert still_gaining(rows(rising))
    slow = [0.5 + 0.0004 * i for i in range(30)]  # 0.004 per 10 epochs: below the gain
    assert not still_gaining(rows(slow))
    assert still_gaining(rows([0.1] * EXTEND_WINDOW))  # too short to judge
    edge = [0.5] * 10 + [0.5 + EXTEND_GAIN] * 10
    assert still_gaining(rows(edge)) and not still_gaining(rows(edge + [0.5 + EXTEND_GAIN] * 10))


@pytest.mark.parametrize("accs,c,reason", [
    ([0.5] * 11, cfg(), None),  # before the cap
    ([0.5] * 12, cfg(), "cap"),  # at the cap, no extension
    ([0.5] * 12, cfg(extend_epochs=12), "cap"),  # at the cap, flat: not extended
    ([0.5 + 0.01 * i for i in range(12)], cfg(extend_epochs=12), None),  # rising: on
    ([0.5 + 0.01 * i for i in range(24)], cfg(extend_epochs=12), "extension exhausted"),
    ([0.5 + 0.01 * i for i in range(14)] + [0.63] * 10, cfg(extend_epochs=12), "converged"),
    ([0.5, 0.96, 0.97], cfg(stop_train_acc=0.95), "ceiling"),
    ([0.5 + 0.01 * i for i in range(15)] + [0.99, 0.99], cfg(extend_epochs=12,
                                                             stop_train_acc=0.95), "ceiling"),
])
def test_stop_reasons(accs, c, reason):
    assert stop_reason(rows(accs), c) == reason


@pytest.mark.parametrize("field,value", [("fit_samples", -1), ("fit_samples", 2.5),
                                         ("extend_epochs", -3), ("extend_epochs", "x"),
                                         ("keep", "best")])
def test_new_fields_are_validated(field, value):
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{field: value})


def test_fit_is_measured_on_the_transferred_weights_in_eval_mode(tiny_data, tiny_model,
                                                                one_thread):
    """``fit_acc`` is the eval-mode accuracy of the epoch's final weights on the first
    ``fit_samples`` training samples rendered at epoch 0; the ceiling rule reads it."""
    ds = tiny_data(transforms=["rotate"], n=128, seed=1)
    net = tiny_model(num_classes=4, seed=0)
    c = cfg(epochs=3, batch_size=32, fit_samples=48)
    res = train(net, ds, c)
    assert all(0.0 <= r["fit_acc"] <= 1.0 for r in res.history)
    fixed = fit_set(ds, 48)
    assert len(fixed.labels) == 48 and fit_set(ds, 0) is None
    assert res.final["fit_acc"] == evaluate(net, fixed, c)  # the weights returned
    images, _ = ds.render(range(48), epoch=0)
    assert fixed.images.equal(images)
    # the same training without the fit subset: identical weights and running accuracies
    other = train(tiny_model(num_classes=4, seed=0), ds, cfg(epochs=3, batch_size=32))
    assert [r["train_acc"] for r in other.history] == [r["train_acc"] for r in res.history]
    assert "fit_acc" not in other.final


def test_a_model_still_gaining_trains_past_its_cap(tiny_data, tiny_model, one_thread):
    """A learning model at a 2-epoch cap with a generous extension: the run goes on while the
    rule holds and records why it ended; without the extension it stops at the cap."""
    ds = tiny_data(transforms=["rotate"], n=128, seed=1)
    res = train(tiny_model(num_classes=4, seed=0), ds,
                cfg(epochs=2, batch_size=32, fit_samples=64, extend_epochs=6))
    n = len(res.history)
    assert 2 < n <= 8, [r["fit_acc"] for r in res.history]  # <= 10 epochs: always gaining
    assert res.stop == "extension exhausted" and n == 8
    capped = train(tiny_model(num_classes=4, seed=0), ds, cfg(epochs=2, batch_size=32))
    assert capped.stop == "cap" and len(capped.history) == 2
    assert capped.history == [{k: v for k, v in r.items() if k != "fit_acc"}
                              for r in res.history[:2]]


def _tied_val(ds):
    """A validation set of one sample: its accuracy is 0 or 1, so epochs tie."""
    x, y = ds.render([0], epoch=0)
    return EvalSet(x, y, ds.num_classes)


@pytest.mark.parametrize("keep,pick", [("best_val", min), ("best_val_last", max)])
def test_the_tie_rule_picks_the_first_or_last_best_validation_epoch(tiny_data, tiny_model,
                                                                   one_thread, keep, pick):
    ds = tiny_data(transforms=["rotate"], n=128, seed=1)
    val = _tied_val(ds)
    res = train(tiny_model(num_classes=4, seed=0), ds, cfg(epochs=6, batch_size=32, keep=keep),
                val=val)
    accs = [r["val_acc"] for r in res.history]
    tied = [e for e, a in enumerate(accs) if a == max(accs)]
    assert len(tied) > 1, accs  # the rule is exercised
    assert res.best_epoch == pick(tied) and res.final["kept_epoch"] == pick(tied) + 1, accs
