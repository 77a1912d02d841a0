"""Penultimate features and the cache shared by the probes of a run
(``transforms2d.train.features``), and the probes' loss curves: cached features are the very
tensors computed without the cache, a warm cache changes no bit of a probe, and the curve has
one mean training loss per epoch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from transforms2d import Transforms2D
from transforms2d.assets import AssetPack, load_random
from transforms2d.train import (
    FeatureCache,
    ProbeConfig,
    TrainConfig,
    extract_features,
    linear_probe,
    reference_probe,
    train,
)
from transforms2d.train.probe import HeadFitter, new_head


@pytest.fixture(scope="module")
def net(tiny_data, tiny_model):
    """A convnet_xs trained for 2 epochs on the tiny task (frozen afterwards)."""
    from tests.helpers import torch_threads

    with torch_threads(1):
        model = tiny_model(num_classes=4, seed=0)
        train(model, tiny_data(transforms=["rotate"], n=256, seed=3),
              TrainConfig(epochs=2, batch_size=64, progress=False))
    return model.eval()


def test_identical_datasets_share_their_features(net, tiny_data, one_thread):
    cache = FeatureCache(net, batch_size=32)
    a = tiny_data(transforms=["hue"], n=48, split="test", seed=5)
    f, y = cache.features(a)
    assert cache.hits == 0 and cache.seconds > 0
    ref_f, ref_y = extract_features(net, a, 0, 32)
    assert torch.equal(f, ref_f) and torch.equal(y, ref_y) and f.shape[0] == 48
    again = tiny_data(transforms=["hue"], n=48, split="test", seed=5)  # built anew, same data
    assert again.cache_key() == a.cache_key()
    f2, y2 = cache.features(again)
    assert f2 is f and y2 is y and cache.hits == 1
    seconds = cache.seconds
    assert cache.features(a, epoch=7)[0] is f and cache.hits == 2  # a test split is fixed
    assert cache.seconds == seconds  # answered from the cache: nothing computed


def test_another_split_epoch_size_or_pack_is_another_entry(net, tiny_data, one_thread):
    cache = FeatureCache(net)
    base = dict(transforms=["hue"], n=48, seed=5)
    first = cache.features(tiny_data(split="train", **base))[0]
    others = [cache.features(tiny_data(split="val", **base))[0],
              cache.features(tiny_data(split="train", **base), epoch=1)[0],  # fresh views
              cache.features(tiny_data(split="train", **{**base, "n": 40}))[0],
              cache.features(tiny_data(split="train", **{**base, "seed": 6}))[0]]
    assert cache.hits == 0
    for f in others:
        assert f is not first and not (f.shape == first.shape and torch.equal(f, first))
    # the same spec with another pack of objects (same indices, other images)
    packs = [load_random(4, 16, s) for s in (1, 2)]
    sets = [Transforms2D(objects=4, assets=p, backgrounds="random", n=32, split="test",
                         image_size=16) for p in packs]
    assert sets[0].cache_key() != sets[1].cache_key()
    f0, f1 = (cache.features(s)[0] for s in sets)
    assert cache.hits == 0 and not torch.equal(f0, f1)
    assert cache.features(sets[0])[0] is f0 and cache.hits == 1


def test_another_background_pack_is_another_entry(net, tiny_data, one_thread):
    cache = FeatureCache(net)
    kw = dict(objects=4, n=32, split="test", image_size=16, class_from="background")
    scenes = Transforms2D(background_pack="objects", **kw)
    builtin = Transforms2D(**kw)
    assert scenes.cache_key() != builtin.cache_key()
    assert not torch.equal(cache.features(scenes)[0][:4], cache.features(builtin)[0][:4])
    assert cache.hits == 0


def test_background_packs_given_as_objects_are_told_apart(net, one_thread):
    """Two background packs passed as :class:`AssetPack` objects with one name (e.g. two
    folders loaded under a shared name) render different samples: the cache must not give
    the features of one for the other."""
    def pack(value):
        return AssetPack(name="bg", objects=[], object_names=(),
                         backgrounds=[torch.full((3, 16, 16), value, dtype=torch.uint8)] * 4,
                         background_families=("a", "b") * 2, description="", license="")
    a, b = (Transforms2D(objects=4, n=8, split="test", image_size=16, background_pack=pack(v))
            for v in (0, 200))
    assert not torch.equal(a.render(torch.arange(8))[0], b.render(torch.arange(8))[0])
    cache = FeatureCache(net)
    fa, fb = cache.features(a)[0], cache.features(b)[0]
    assert cache.hits == 0 and not torch.equal(fa, fb)


def probe_once(net, train_ds, test_ds, cfg, cache=None):
    return linear_probe(net, train_ds, None, test_ds, cfg, cache)


def test_a_warm_cache_changes_no_bit_of_a_probe(net, tiny_data, one_thread):
    cfg = ProbeConfig(solver="adam", epochs=15, batch_size=32, views=2, progress=False)
    train_a = tiny_data(objects=[5, 6, 7, 8], transforms=["rotate"], n=96, seed=4)
    train_b = tiny_data(objects=[5, 6, 7, 8], transforms=["hue"], n=96, seed=4)
    test = train_a.with_split("test", 64)
    cold = probe_once(net, train_a, test, cfg)
    cache = FeatureCache(net)
    probe_once(net, train_b, test, cfg, cache)  # warms the test set (and b's views)
    hits = cache.hits
    warm = probe_once(net, train_a, test, cfg, cache)
    assert cache.hits == hits + 1  # the shared test set
    again = probe_once(net, train_a, test, cfg, cache)  # now every set comes from the cache
    assert cache.hits == hits + 1 + 3  # two training views and the test set
    for res in (warm, again):
        assert (res.train_acc, res.test_acc) == (cold.train_acc, cold.test_acc)
        assert res.loss_curve == cold.loss_curve
        assert torch.equal(res.head.weight, cold.head.weight)
        assert torch.equal(res.head.bias, cold.head.bias)


def test_probe_loss_curves_have_one_value_per_epoch_and_fall(net, tiny_data, one_thread):
    train_ds = tiny_data(transforms=["rotate"], n=128, seed=9)  # the task the net learned
    cfg = ProbeConfig(solver="adam", epochs=30, batch_size=32, lr=1e-2, views=1, progress=False)
    res = linear_probe(net, train_ds, None, None, cfg)
    curve = res.loss_curve
    assert len(curve) == 30 and all(v > 0 for v in curve)
    assert curve[-1] < 0.7 * curve[0], curve
    assert sum(b < a for a, b in zip(curve, curve[1:])) >= 25, curve  # falls almost always
    assert res.to_dict()["loss_curve"] == curve
    ref = reference_probe(net, train_ds, None, None,
                          ProbeConfig(solver="adam", epochs=6, batch_size=32, views=1,
                                      progress=False))
    assert len(ref.loss_curve) == 6 and ref.loss_curve[-1] < ref.loss_curve[0]


def test_probe_accuracy_curve_every_twentieth_epoch_ends_with_the_reported_accuracies(
        net, tiny_data, one_thread):
    train_ds = tiny_data(transforms=["rotate"], n=128, seed=9)
    test_ds = train_ds.with_split("test", 64)
    cfg = ProbeConfig(solver="adam", epochs=45, batch_size=32, lr=1e-2, views=1, progress=False)
    res = linear_probe(net, train_ds, None, test_ds, cfg)
    epochs = [p["epoch"] for p in res.acc_curve]
    assert epochs == [*range(2, 45, 2), 45]  # every 45 // 20 = 2 epochs, and the last
    last = res.acc_curve[-1]
    assert (last["train_acc"], last["test_acc"]) == (res.train_acc, res.test_acc)
    assert last["val_acc"] is None
    assert all(0 <= p[k] <= 1 for p in res.acc_curve for k in ("train_acc", "test_acc"))
    assert res.acc_curve[0]["train_acc"] < last["train_acc"]  # it learned along the way
    assert res.to_dict()["acc_curve"] == res.acc_curve


def test_head_fitter_step_returns_the_summed_loss_before_the_step():
    g = torch.Generator().manual_seed(0)
    f, y = torch.randn(40, 6, generator=g), torch.randint(0, 3, (40,), generator=g)
    head = new_head(6, 3, 1, "cpu")
    fitter = HeadFitter(head, 1e-2)
    fa, onehot = HeadFitter.prepare(f, y, 3)
    for _ in range(3):
        w = fitter.p.clone()  # (C, D + 1): weights and bias of the logits
        want = F.cross_entropy(fa @ w.t(), y, reduction="sum")
        got = fitter.step(fa, onehot)
        assert got.dim() == 0 and torch.allclose(got, want, rtol=1e-5)
