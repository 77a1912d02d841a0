"""TransformedCIFAR on small archives (the ``cifar_root`` fixture: the official layout and
pickle format, 20 training and 10 test images per class in shuffled archive order; uniform
random pixels, no row ever all black, plus a class-dependent tint). The CIFAR background packs
of Transforms2D are in test_cifar_backgrounds.py.
"""

from __future__ import annotations

import pickle

import pytest
import torch

import transforms2d as t2d
from tests.helpers import one_line
from tests.helpers.cifar import C10_NAMES, PER_CLASS_TEST, source_images, write_cifar
from transforms2d import ConfigError, Transforms2D
from transforms2d.assets import load_cifar
from transforms2d.data import TransformedCIFAR
from transforms2d.data.cifar import CIFAR_STATS, max_shift
from transforms2d.rng import Draws, derive_key
from transforms2d.transforms import apply_params, get_transform, sample_params

GEO, PHOTO, CORR = t2d.TRANSFORMS[:6], t2d.TRANSFORMS[6:12], t2d.TRANSFORMS[12:]

@pytest.fixture(autouse=True)
def _no_env(monkeypatch, empty_cifar):
    """No CIFAR root set (each dataset here names its root), an empty cache, no decoded
    tensors in memory."""
    monkeypatch.delenv("T2D_CIFAR_ROOT", raising=False)


# --------------------------------------------------------------------------- API
def test_api_matches_transforms2d(cifar_root):
    ds = TransformedCIFAR("cifar10", ["rotate", "hue"], split="train", root=cifar_root)
    assert len(ds) == ds.spec.n == 10 * 18 and ds.num_classes == 10
    assert ds.class_names == C10_NAMES and ds.spec.image_size == 32
    assert ds.device == torch.device("cpu")
    x, y = ds[3]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and isinstance(y, int)
    xb, yb = ds.render(torch.arange(50), epoch=0)
    assert xb.shape == (50, 3, 32, 32) and yb.dtype == torch.int64
    assert torch.equal(xb[3], x) and int(yb[3]) == y
    assert torch.equal(ds.with_transform_seed(1).render(torch.arange(50))[1], yb)
    seen = torch.cat([b for _, b in ds.loader(64, shuffle=True, epoch=2)])
    assert len(seen) == len(ds)
    assert torch.equal(torch.sort(ds.order(2))[0], torch.arange(len(ds)))
    assert not torch.equal(ds.order(2), ds.order(3))
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._cache is None and torch.equal(clone.render(torch.arange(50))[0], xb)
    assert torch.equal(ds.to("cpu").render(torch.arange(50))[0], xb)
    with pytest.raises(IndexError):
        ds.render([len(ds)])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_splits_are_disjoint_and_carved_per_class(cifar_root):
    labels = load_cifar("cifar10", "train", cifar_root).labels
    train = TransformedCIFAR("cifar10", split="train", root=cifar_root)
    val = TransformedCIFAR("cifar10", split="val", root=cifar_root)
    test = TransformedCIFAR("cifar10", split="test", root=cifar_root)
    tr, va = set(train.source_index.tolist()), set(val.source_index.tolist())
    assert not tr & va and tr | va == set(range(len(labels)))
    assert len(test) == 10 * PER_CLASS_TEST and torch.equal(test.source_index,
                                                             torch.arange(len(test)))
    for c in range(10):  # val: the last 2 of each class in archive order
        where = torch.nonzero(labels == c).squeeze(1).tolist()
        assert set(where[-2:]) <= va and set(where[:-2]) <= tr
    assert torch.equal(val.labels, labels[val.source_index])
    assert torch.bincount(val.labels).tolist() == [2] * 10


# --------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("group", [GEO, PHOTO, CORR], ids=["geometric", "photometric", "corr"])
def test_bit_identical_across_batch_sizes_orders_and_reruns(cifar_root, group):
    ds = TransformedCIFAR("cifar10", list(group), split="train", seed=3, n=60, root=cifar_root)
    n = len(ds)
    ref, _ = ds.render(torch.arange(n), epoch=2)
    for bs in (1, 7, n):
        parts = [ds.render(torch.arange(s, min(s + bs, n)), epoch=2)[0] for s in range(0, n, bs)]
        assert torch.equal(torch.cat(parts), ref), f"batch size {bs}"
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ds.render(perm, epoch=2)[0], ref[perm])
    again = TransformedCIFAR("cifar10", list(group), split="train", seed=3, n=60, root=cifar_root)
    assert torch.equal(again.render(torch.arange(n), epoch=2)[0], ref)
    assert not torch.equal(ds.render(torch.arange(n), epoch=3)[0], ref)


def test_epoch_changes_train_only_and_dataloader_workers_agree(cifar_root):
    for split in ("val", "test"):
        ds = TransformedCIFAR("cifar10", ["rotate", "noise"], split=split, root=cifar_root)
        assert torch.equal(ds.render(torch.arange(20), 0)[0], ds.render(torch.arange(20), 5)[0])
    ds = TransformedCIFAR("cifar10", ["rotate", "noise"], split="train", n=40, root=cifar_root)
    ds.set_epoch(1)
    out = [torch.cat([x for x, _ in torch.utils.data.DataLoader(ds, batch_size=9,
                                                                num_workers=w)])
           for w in (0, 2)]
    assert torch.equal(out[0], out[1])
    assert torch.equal(out[0], ds.render(torch.arange(40), epoch=1)[0])


def test_twin_keeps_image_and_label_changes_parameters(cifar_root):
    ds = TransformedCIFAR("cifar10", ["h_flip"], split="test", normalize="half", root=cifar_root)
    twin = ds.with_transform_seed(1)
    x1, y1 = ds.render(torch.arange(len(ds)))
    x2, y2 = twin.render(torch.arange(len(ds)))
    assert torch.equal(y1, y2) and twin.spec.transform_seed == 1
    same = (x1 == x2).flatten(1).all(1)
    flipped = (x1.flip(-1) == x2).flatten(1).all(1)
    assert bool((same | flipped).all())  # the same image, flipped or not
    assert 0 < int(flipped.sum()) < len(ds)  # independent coin flips
    plain = TransformedCIFAR("cifar10", split="test", normalize="half", root=cifar_root)
    assert torch.equal(plain.render(torch.arange(5))[0],
                       plain.with_transform_seed(9).render(torch.arange(5))[0])


def test_transform_loop_matches_the_renderer_convention(cifar_root):
    """Photometric transforms on the opaque canvas with the renderer's keys, by hand."""
    lst = ["hue", "posterize", "contrast"]
    ds = TransformedCIFAR("cifar10", lst, split="train", seed=4, transform_seed=2,
                          normalize="half", root=cifar_root)
    idx = torch.arange(30)
    img = load_cifar("cifar10", "train", cifar_root).images[ds.source_index[idx]]
    img = img.float().mul(1 / 255)
    x = torch.cat([img, torch.ones_like(img[:, :1])], 1)
    d = Draws(derive_key(4, "transform", "train", 2, 6), idx)
    for k, name in enumerate(lst):
        info = get_transform(name)
        x = apply_params(info, x, sample_params(info, d.child(f"{k}:{name}"), 32))
    want = (x[:, :3] * x[:, 3:4]) * 2.0 - 1.0
    assert torch.equal(ds.render(idx, epoch=6)[0], want.clamp(-1, 1))


# --------------------------------------------------------------------------- subsets, counts
def test_class_subset_is_remapped(cifar_root):
    labels = load_cifar("cifar10", "train", cifar_root).labels
    ds = TransformedCIFAR("cifar10", split="train", classes=[7, 2], root=cifar_root)
    assert ds.num_classes == 2 and ds.class_names == ["horse", "bird"] and len(ds) == 36
    _, y = ds.render(torch.arange(len(ds)))
    assert torch.equal(y, ds.labels) and set(y.tolist()) == {0, 1}
    assert torch.equal(labels[ds.source_index], torch.tensor([7, 2])[y])
    c100 = TransformedCIFAR("cifar100", split="test", classes=[99, 0, 50], root=cifar_root)
    assert c100.class_names == ["fine_99", "fine_00", "fine_50"] and len(c100) == 6


def test_per_class_counts_fractions_and_totals(cifar_root):
    def counts(ds):
        return torch.bincount(ds.labels, minlength=ds.num_classes).tolist()

    small = TransformedCIFAR("cifar10", split="train", n_per_class=3, seed=1, root=cifar_root)
    big = TransformedCIFAR("cifar10", split="train", n_per_class=10, seed=1, root=cifar_root)
    assert counts(small) == [3] * 10 and counts(big) == [10] * 10
    assert set(small.source_index.tolist()) < set(big.source_index.tolist())  # nested
    assert bool((small.source_index.diff() > 0).all())  # archive order
    other = TransformedCIFAR("cifar10", split="train", n_per_class=3, seed=2, root=cifar_root)
    assert not torch.equal(other.source_index, small.source_index)
    half = TransformedCIFAR("cifar10", split="train", fraction=0.5, root=cifar_root)
    assert counts(half) == [9] * 10  # 50% of 18
    tiny = TransformedCIFAR("cifar10", split="train", fraction=0.01, root=cifar_root)
    assert counts(tiny) == [1] * 10  # at least one per class
    assert len(TransformedCIFAR("cifar10", split="val", fraction=1.0, root=cifar_root)) == 20
    total = TransformedCIFAR("cifar10", split="train", n=25, classes=[0, 1, 2], root=cifar_root)
    assert counts(total) == [9, 8, 8]
    test = small.with_split("test")  # the count option carries over
    assert test.spec.split == "test" and counts(test) == [3] * 10
    assert len(small.with_split("val", n=10)) == 10


# --------------------------------------------------------------------------- pixels
def test_normalisation_values(cifar_root):
    raw = load_cifar("cifar10", "test", cifar_root).images.float().mul(1.0 / 255.0)
    ds = TransformedCIFAR("cifar10", split="test", root=cifar_root)
    x, _ = ds.render(torch.arange(len(ds)))
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in CIFAR_STATS["cifar10"])
    assert CIFAR_STATS["cifar10"] == ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    assert torch.allclose(x * std + mean, raw, atol=1e-6)
    half = TransformedCIFAR("cifar10", split="test", normalize="half", root=cifar_root)
    assert torch.equal(half.render(torch.arange(len(ds)))[0], raw * 2.0 - 1.0)
    c100 = TransformedCIFAR("cifar100", split="test", root=cifar_root)
    x100, _ = c100.render(torch.arange(len(c100)))
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in CIFAR_STATS["cifar100"])
    raw100 = load_cifar("cifar100", "test", cifar_root).images.float().mul(1.0 / 255.0)
    assert torch.allclose(x100 * std + mean, raw100, atol=1e-6)


def test_translate_shifts_whole_images_symmetrically(cifar_root):
    ds = TransformedCIFAR("cifar10", ["translate"], split="train", normalize="half",
                          root=cifar_root)
    n, r = len(ds), max_shift(32)
    assert r == 5
    src = source_images(cifar_root, "cifar10", "train")[ds.source_index]
    shifts = []
    for epoch in range(6):
        x, _ = ds.render(torch.arange(n), epoch)
        black_rows = (x == -1).all(1).all(2)  # (B, 32): rows that are all black
        black_cols = (x == -1).all(1).all(1)
        dy = black_rows[:, :r + 1].sum(1) - black_rows[:, -r - 1:].sum(1)
        dx = black_cols[:, :r + 1].sum(1) - black_cols[:, -r - 1:].sum(1)
        for i in range(n):  # the content is the source image moved by (dy, dx)
            a, b = int(dy[i]), int(dx[i])
            moved = torch.full_like(src[i], -1.0)
            moved[:, max(a, 0):32 + min(a, 0), max(b, 0):32 + min(b, 0)] = \
                src[i][:, max(-a, 0):32 - max(a, 0), max(-b, 0):32 - max(b, 0)]
            assert torch.equal(x[i], moved)
        shifts.append(torch.stack([dy, dx], 1))
    s = torch.cat(shifts).float()  # 1080 shifts, each axis uniform on -5..5 (sd 3.2)
    assert s.min() == -r and s.max() == r
    assert bool((s.mean(0).abs() < 0.4).all()), s.mean(0)
    assert bool((s == -r).any(0).all() and (s == r).any(0).all())


def test_geometric_transforms_fill_with_black(cifar_root):
    for normalize, black in (("half", torch.full((3,), -1.0)),
                             ("cifar", -torch.tensor(CIFAR_STATS["cifar10"][0])
                              / torch.tensor(CIFAR_STATS["cifar10"][1]))):
        rot = TransformedCIFAR("cifar10", [("rotate", {"angle": (45.0, 45.0)})], split="test",
                               normalize=normalize, root=cifar_root)
        x, _ = rot.render(torch.arange(len(rot)))
        assert torch.allclose(x[:, :, 0, 0], black.expand(len(rot), 3), atol=1e-6)
        assert torch.allclose(x[:, :, 31, 31], black.expand(len(rot), 3), atol=1e-6)
    small = TransformedCIFAR("cifar10", [("scale", {"factor": (0.5, 0.5)})], split="test",
                             normalize="half", root=cifar_root)
    x, _ = small.render(torch.arange(len(small)))
    assert bool((x[:, :, :7] == -1).all() and (x[:, :, :, 25:] == -1).all())
    assert bool((x[:, :, 9:23, 9:23] > -1).all())
    erase = TransformedCIFAR("cifar10", [("erasing", {"p": 1.0})], split="test",
                             normalize="half", root=cifar_root)
    x, _ = erase.render(torch.arange(len(erase)))
    black = (x == -1).all(1).flatten(1).sum(1)
    assert bool((black >= 14 * 14).all())


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,parts", [
    (dict(classes=[3, 10]), ["Class 10 is out of range for CIFAR-10", "0..9"]),
    (dict(classes=[-1]), ["Class -1 is out of range"]),
    (dict(classes=[2, 2]), ["appears twice"]),
    (dict(classes=[]), ["non-empty list"]),
    (dict(fraction=0.0), ["'fraction'", "(0, 1]"]),
    (dict(fraction=1.5), ["'fraction'", "(0, 1]"]),
    (dict(n_per_class=19), ["n_per_class=19", "only 18 train images", "at most 18"]),
    (dict(n_per_class=0), ["'n_per_class'"]),
    (dict(n=5), ["n=5 is smaller than the number of classes"]),
    (dict(n_per_class=3, fraction=0.5), ["at most one of n, n_per_class and fraction"]),
    (dict(normalize="imagenet"), ["'normalize'", "cifar, half"]),
    (dict(name="cifar1000"), ["'name'", "cifar10, cifar100"]),
    (dict(transforms=["rotat"]), ["did you mean 'rotate'"]),
    (dict(transforms={0: ["rotate"]}), ["Per-class transforms are not supported"]),
])
def test_bad_input_is_a_one_line_error(cifar_root, kwargs, parts):
    with pytest.raises(ConfigError) as e:
        TransformedCIFAR(**{"root": cifar_root, **kwargs})
    one_line(e, *parts)


def test_count_too_large_for_another_split(cifar_root):
    ds = TransformedCIFAR("cifar10", split="train", n_per_class=5, root=cifar_root)
    with pytest.raises(ConfigError) as e:
        ds.with_split("val")
    one_line(e, "only 2 val images")


def test_missing_data_is_a_one_line_error(tmp_path, monkeypatch):
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(ConfigError) as e:
        TransformedCIFAR("cifar10", root=empty)
    one_line(e, "CIFAR-10 not found", "T2D_CIFAR_ROOT", "download=True")
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(empty))
    with pytest.raises(ConfigError) as e:
        TransformedCIFAR("cifar100")
    one_line(e, "CIFAR-100 not found", str(empty))
    with pytest.raises(ConfigError) as e:
        Transforms2D(objects=10, n=100, background_pack="cifar10", class_from="background")
    one_line(e, "CIFAR-10 not found", "T2D_CIFAR_ROOT")
    with pytest.raises(ConfigError) as e:
        Transforms2D(objects=10, n=100, background_pack="cifar10:", class_from="background")
    one_line(e, "empty root")
    with pytest.raises(ConfigError) as e:
        Transforms2D(objects=10, n=100, background_pack="cifar", class_from="background")
    one_line(e, "Unknown background pack 'cifar'", "cifar10")


def test_incomplete_split_is_a_one_line_error(tmp_path):
    write_cifar(tmp_path, "cifar10", per_class=1)  # one image per class: val gets none
    with pytest.raises(ConfigError) as e:
        TransformedCIFAR("cifar10", split="val", root=tmp_path)
    one_line(e, "no val image of class 0 ('airplane')")
    with pytest.raises(ConfigError) as e:
        Transforms2D(objects=10, n=100, split="val", background_pack=f"cifar10:{tmp_path}",
                     class_from="background")
    one_line(e, "no val image of class 'airplane'")
