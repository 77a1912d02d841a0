"""The CIFAR background packs of Transforms2D (``background_pack="cifar10:<root>"``): labels are
CIFAR classes, test samples use CIFAR test images only, object correlation, availability and
corner placement, on the small archives of the ``cifar_root`` fixture."""

from __future__ import annotations

import pickle

import pytest
import torch

from tests.helpers.cifar import C10_NAMES, C100_NAMES, PER_CLASS_TEST, half, source_images
from transforms2d import Transforms2D
from transforms2d.assets import cifar, load_background_pack, load_cifar


@pytest.fixture(autouse=True)
def _no_env(monkeypatch, empty_cifar):
    """No CIFAR root set (each pack here names its root), no decoded tensors in memory."""
    monkeypatch.delenv("T2D_CIFAR_ROOT", raising=False)


def e2_dataset(cifar_root, split, **kw):
    args = dict(objects=10, transforms=(), n=10 * PER_CLASS_TEST, split=split,
                background_pack=f"cifar10:{cifar_root}", class_from="background",
                object_availability=0.0)
    return Transforms2D(**{**args, **kw})


def test_background_pack_labels_are_cifar_classes_and_test_uses_test_images(cifar_root):
    for split, src_split in (("test", "test"), ("train", "train"), ("val", "train")):
        ds = e2_dataset(cifar_root, split, n=60)
        assert ds.class_names == C10_NAMES and ds.num_classes == 10
        x, y = ds.render(torch.arange(len(ds)))
        data = load_cifar("cifar10", src_split, cifar_root)
        src = half(data.images)
        eq = (x[:, None] == src[None]).flatten(2).all(2)  # (n, N): which CIFAR image it is
        assert bool((eq.sum(1) >= 1).all()), split
        which = eq.float().argmax(1)
        assert torch.equal(data.labels[which], y)  # label = the CIFAR class of the image
        carved = set(cifar.split_index(data.labels, split).tolist())
        assert set(which.tolist()) <= carved, split  # val images never in train, and back
    test = e2_dataset(cifar_root, "test")  # n = all 100 test images: each used exactly once
    x, _ = test.render(torch.arange(len(test)))
    src = source_images(cifar_root, "cifar10", "test")
    which = (x[:, None] == src[None]).flatten(2).all(2).float().argmax(1)
    assert sorted(which.tolist()) == list(range(len(src)))
    moved = e2_dataset(cifar_root, "train", n=60).with_split("test", n=100)
    assert torch.equal(moved.render(torch.arange(100))[0], x)


def test_background_pack_correlation_availability_and_corner_objects(cifar_root):
    corr = e2_dataset(cifar_root, "train", n=200, correlation=1.0, object_availability=1.0)
    ident = corr.renderer.identity(torch.arange(200))
    assert torch.equal(ident["object"], ident["label"])  # object k <-> CIFAR class k
    free = e2_dataset(cifar_root, "train", n=200, object_availability=1.0)
    assert not torch.equal(free.renderer.identity(torch.arange(200))["object"],
                           ident["label"])
    half = e2_dataset(cifar_root, "train", n=400, object_availability=0.5)
    present = half.renderer.identity(torch.arange(400))["present"].float().mean()
    assert 0.4 < float(present) < 0.6
    kw = dict(object_scale=0.375, object_position="corner")
    bare = e2_dataset(cifar_root, "test", **kw)
    with_obj = e2_dataset(cifar_root, "test", object_availability=1.0, **kw)
    diff = (bare.render(torch.arange(100))[0] != with_obj.render(torch.arange(100))[0]).any(1)
    assert bool(diff[:, 1:13, 19:31].any(0).any())  # the 12 px box, upper right, 1 px margin
    diff[:, 1:13, 19:31] = False
    assert not bool(diff.any())
    anywhere = e2_dataset(cifar_root, "test", object_availability=1.0, object_scale=0.375,
                          object_position="anywhere")
    assert anywhere.render(torch.arange(100))[0].shape == (100, 3, 32, 32)
    c100 = Transforms2D(objects=20, n=200, split="test", background_pack=f"cifar100:{cifar_root}",
                        class_from="background")
    assert c100.num_classes == 100 and c100.class_names == C100_NAMES
    assert torch.equal(c100.render(torch.arange(200))[1], torch.arange(200) % 100)


def test_background_pack_object_classes_and_pickling(cifar_root):
    ds = Transforms2D(objects=10, n=50, split="test", background_pack=f"cifar10:{cifar_root}",
                      correlation=1.0)
    ident = ds.renderer.identity(torch.arange(50))
    test_labels = load_cifar("cifar10", "test", cifar_root).labels
    pack = load_background_pack(f"cifar10:{cifar_root}", "test")
    assert torch.equal(pack.labels, test_labels)
    assert torch.equal(pack.labels[ident["background"]], ident["label"])  # class k <-> family k
    clone = pickle.loads(pickle.dumps(ds))
    assert torch.equal(clone.render(torch.arange(50))[0], ds.render(torch.arange(50))[0])
    assert ds.spec.extras == {"background_pack": f"cifar10:{cifar_root}"}


def test_other_background_packs_and_defaults_unchanged():
    kw = dict(objects=6, transforms=["rotate"], n=60, seed=3, class_from="background")
    ref = Transforms2D(**kw).render(torch.arange(60))[0]
    assert torch.equal(Transforms2D(background_pack="builtin", **kw).render(torch.arange(60))[0],
                       ref)
    assert Transforms2D(**kw).spec.extras == {}
