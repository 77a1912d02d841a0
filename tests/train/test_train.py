"""Pretraining, checkpoints, probes and fine-tuning: real training on small data (CPU), on the
tiny task of the ``tiny_data`` fixture (4 objects, 16 px) and on TransformedCIFAR."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transforms2d import ConfigError
from transforms2d.data import TransformedCIFAR
from transforms2d.metrics import invariance
from transforms2d.train import (
    EvalSet,
    ProbeConfig,
    TrainConfig,
    TrainingDiverged,
    finetune,
    linear_probe,
    load_checkpoint,
    reference_probe,
    resolve_device,
    train,
)
from transforms2d.train.loop import lr_lambda


def small_cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 3, "batch_size": 64, "progress": False, **kw})


def test_schedules():
    cfg = TrainConfig(schedule="linear_decay")
    f = lr_lambda(cfg, total_steps=100, steps_per_epoch=10)
    assert f(0) == 1.0 and f(50) == pytest.approx(0.5) and f(100) == 0.0
    vit = TrainConfig(schedule="warmup_cosine", warmup_epochs=5, min_lr=1e-5)
    g = lr_lambda(vit, total_steps=500, steps_per_epoch=10)
    assert g(0) == pytest.approx(0.02) and g(49) == pytest.approx(1.0)
    assert g(500) == pytest.approx(1e-5 / 1e-3)
    assert g(49) > g(200) > g(400)


@pytest.mark.slow
def test_pretraining_learns_and_is_deterministic(tmp_path, tiny_data, tiny_model):
    ds = tiny_data(transforms=["h_flip"], n=512, seed=3)
    val = EvalSet.render(ds.with_split("val", 200))
    test = EvalSet.render(ds.with_split("test", 200))
    runs = []
    for k in range(2):
        net = tiny_model(num_classes=4, seed=0)
        res = train(net, ds, small_cfg(), val, test, out_dir=tmp_path / str(k),
                    model_name="convnet_xs")
        runs.append((res, net))
    res = runs[0][0]
    assert res.final["test_acc"] > 0.6, res.history  # chance is 0.25
    assert set(res.final) >= {"loss", "train_acc", "val_acc", "test_acc"}
    assert res.history == runs[1][0].history  # same seed, same data: identical run
    for a, b in zip(runs[0][1].state_dict().values(), runs[1][1].state_dict().values()):
        assert torch.equal(a, b)
    assert (tmp_path / "0" / "last.pt").exists() and (tmp_path / "0" / "best.pt").exists()
    loaded, meta = load_checkpoint(tmp_path / "0" / "last.pt", model="convnet_xs", num_classes=4)
    assert meta["epoch"] == 2
    x = test.images[:8]
    runs[0][1].eval()
    loaded.eval()
    torch.testing.assert_close(loaded(x), runs[0][1](x.contiguous(
        memory_format=torch.channels_last)), atol=1e-5, rtol=1e-5)


def test_checkpoint_errors(tmp_path, tiny_data, tiny_model):
    ds = tiny_data(n=64, seed=3)
    net = tiny_model(num_classes=4)
    train(net, ds, small_cfg(epochs=1), out_dir=tmp_path, model_name="convnet_xs")
    with pytest.raises(ConfigError, match="holds a 'convnet_xs', not a 'resnet18'"):
        load_checkpoint(tmp_path / "last.pt", model="resnet18")
    with pytest.raises(ConfigError, match="has 4 classes but the task has 7"):
        load_checkpoint(tmp_path / "last.pt", num_classes=7)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="not a readable"):
        load_checkpoint(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, tiny_data, tiny_model):
    ds = tiny_data(n=128, seed=3)
    net = tiny_model(num_classes=4)
    calls = {"n": 0}

    def poison(module, inputs, output):  # from the second epoch on, the network outputs NaN
        calls["n"] += 1
        return output * float("nan") if calls["n"] > 2 else output

    net.head.register_forward_hook(poison)
    with pytest.raises(TrainingDiverged, match="epoch 1.*last.pt"):
        train(net, ds, small_cfg(), out_dir=tmp_path, model_name="convnet_xs")
    good, meta = load_checkpoint(tmp_path / "last.pt")
    assert meta["epoch"] == 0
    assert all(torch.isfinite(p).all() for p in good.parameters())


def test_cuda_without_gpu_is_an_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_cached_probe_matches_reference_and_finetune_runs(tiny_data, tiny_model):
    src = tiny_data(transforms=["rotate"], n=512, seed=3)
    net = tiny_model(num_classes=4, seed=0)
    train(net, src, small_cfg(epochs=2))
    tgt = tiny_data(objects=[5, 6, 7, 8], transforms=["rotate"], n=256, seed=4)
    test = tgt.with_split("test", 200)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    cfg = ProbeConfig(solver="adam", epochs=20, batch_size=64, views=2, progress=False)
    cached = linear_probe(net, tgt, None, test, cfg)
    ref = reference_probe(net, tgt, None, test, cfg)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # frozen
    assert cached.test_acc > 0.4 and abs(cached.test_acc - ref.test_acc) < 0.1
    tuned, res = finetune(net, cached.head, tgt, small_cfg(epochs=2),
                          test=EvalSet.render(test))
    assert res.history[-1]["lr"] == pytest.approx(0.0)  # decayed to 0 over the whole run
    assert res.final["test_acc"] >= 0.25
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_head_fitter_matches_torch_adam():
    from transforms2d.train.probe import HeadFitter, new_head

    g = torch.Generator().manual_seed(0)
    f, y = torch.randn(64, 12, generator=g), torch.randint(0, 5, (64,), generator=g)
    ours, ref = new_head(12, 5, 1, "cpu"), new_head(12, 5, 1, "cpu")
    fitter, opt = HeadFitter(ours, 1e-2), torch.optim.Adam(ref.parameters(), lr=1e-2)
    for _ in range(25):
        fitter.step(*HeadFitter.prepare(f, y, 5))
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(f), y).backward()
        opt.step()
    fitter.finish()
    torch.testing.assert_close(ours.weight, ref.weight, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours.bias, ref.bias, atol=1e-5, rtol=1e-4)


def test_training_probe_and_invariance_accept_it(cifar_root, tiny_model, empty_cifar):
    """TransformedCIFAR (the small ``cifar_root`` archives) trains, probes and measures."""
    tr = TransformedCIFAR("cifar10", ["rotate"], split="train", classes=[0, 1, 2, 3],
                          root=cifar_root)
    val, test = tr.with_split("val"), tr.with_split("test")
    net = tiny_model(num_classes=4)
    cfg = TrainConfig(epochs=1, batch_size=32, progress=False)
    result = train(net, tr, cfg)
    assert len(result.history) == 1 and np.isfinite(result.final["loss"])
    probe = linear_probe(net, tr, val, test, ProbeConfig(solver="adam", epochs=2, batch_size=32,
                                                         views=1,
                                                         progress=False))
    assert 0.0 <= probe.test_acc <= 1.0 and probe.head.out_features == 4
    inv = invariance(net, test, test.with_transform_seed(1), metrics=("l2", "cos"))
    assert np.isfinite(inv["l2"]) and inv["l2"] > 0


# -- early stop at the training-accuracy ceiling -----------------------------------------------
@pytest.mark.parametrize("field,value", [
    ("stop_train_acc", 0.0), ("stop_train_acc", 1.5), ("stop_train_acc", -0.1),
    ("stop_train_acc", "high"), ("stop_patience", 0), ("stop_patience", 1.5)])
def test_early_stop_fields_are_validated(field, value):
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{field: value})


def test_early_stop_defaults():
    cfg = TrainConfig()
    assert cfg.stop_train_acc is None and cfg.stop_patience == 2
    assert TrainConfig(stop_train_acc=1.0, stop_patience=1).stop_train_acc == 1.0


def test_training_stops_once_the_ceiling_held_for_the_patience(tiny_data, tiny_model,
                                                               one_thread):
    """On an easy task (4 plain objects) the training accuracy reaches 0.9 early: training ends
    after the first ``stop_patience`` consecutive epochs at or above it."""
    ds = tiny_data(n=256, seed=3)
    res = train(tiny_model(), ds, small_cfg(epochs=30, stop_train_acc=0.9, stop_patience=2))
    accs = [row["train_acc"] for row in res.history]
    assert res.stopped_early and len(accs) < 30, accs
    assert accs[-1] >= 0.9 and accs[-2] >= 0.9
    assert not any(a >= 0.9 and b >= 0.9 for a, b in zip(accs[:-2], accs[1:-1]))  # the first
    assert res.final == res.history[-1]
    # without a threshold, every epoch runs (the same epochs as before the stop)
    full = train(tiny_model(), ds, small_cfg(epochs=len(accs) + 1))
    assert not full.stopped_early and len(full.history) == len(accs) + 1
    assert [row["train_acc"] for row in full.history[:len(accs)]] == accs


def test_early_stop_patience_and_the_last_epoch(tiny_data, tiny_model, one_thread):
    ds = tiny_data(n=64, seed=3)
    for patience in (1, 3):  # any accuracy beats 0.01: stops after `patience` epochs
        res = train(tiny_model(), ds, small_cfg(epochs=5, stop_train_acc=0.01,
                                                stop_patience=patience))
        assert res.stopped_early and len(res.history) == patience
    res = train(tiny_model(), ds, small_cfg(epochs=2, stop_train_acc=0.01, stop_patience=2))
    assert len(res.history) == 2 and not res.stopped_early  # it ran every epoch anyway


def test_the_loop_times_its_steps_apart_from_evaluation(tiny_data, tiny_model, one_thread):
    ds = tiny_data(n=128, seed=3)
    val = EvalSet.render(ds.with_split("val", 64))
    res = train(tiny_model(), ds, small_cfg(epochs=2), val)
    assert set(res.timing) == {"train", "evaluate"}
    assert res.timing["train"] > 0 and res.timing["evaluate"] > 0
    assert res.samples == 256 and res.samples_per_s() == pytest.approx(256 / res.timing["train"])
    assert "timing" not in res.final and all("train_s" not in r for r in res.history)


def test_compiled_training_matches_eager(monkeypatch, tmp_path, tiny_data, tiny_model,
                                        one_thread):
    """``compile=True`` goes through torch.compile (the eager backend: Dynamo traces the model,
    no code generation, so the CPU test takes seconds) and trains the same weights."""
    from transforms2d.train.timing import COMPILE_BACKEND_ENV

    monkeypatch.setenv(COMPILE_BACKEND_ENV, "eager")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    ds = tiny_data(n=128, seed=3)
    plain, fast = tiny_model(), tiny_model()
    a = train(plain, ds, small_cfg(epochs=2))
    torch._dynamo.reset()
    b = train(fast, ds, small_cfg(epochs=2, compile=True))
    assert [r["train_acc"] for r in a.history] == [r["train_acc"] for r in b.history]
    for p, q in zip(plain.state_dict().values(), fast.state_dict().values()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_compile_is_an_execution_setting_never_in_a_spec():
    from transforms2d.engine.spec import train_defaults

    assert "compile" in TrainConfig.__dataclass_fields__ and "compile" not in train_defaults()


def test_keep_best_val_returns_the_best_validation_weights(tiny_data, tiny_model, one_thread):
    from transforms2d.errors import ConfigError
    from transforms2d.train import EvalSet
    from transforms2d.train.loop import evaluate

    tr = tiny_data(transforms=["rotate"], n=128, seed=1)
    val = EvalSet.render(tiny_data(transforms=["rotate"], n=64, split="val", seed=1))
    net = tiny_model(num_classes=4, seed=0)
    cfg = TrainConfig(epochs=4, batch_size=32, progress=False, keep="best_val")
    res = train(net, tr, cfg, val=val)
    best = max(range(4), key=lambda e: (res.history[e]["val_acc"], -e))
    assert res.best_epoch == best and res.final["kept_epoch"] == best + 1
    assert res.final["val_acc"] == res.history[best]["val_acc"] == evaluate(net, val, cfg)
    with pytest.raises(ConfigError, match="validation"):
        train(tiny_model(num_classes=4, seed=0), tr, cfg)
