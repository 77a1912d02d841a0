"""Transforms2D: the pinned API, determinism contract, label logic and bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

import transforms2d as t2d
from transforms2d import ConfigError, Transforms2D

GEO, PHOTO, CORR = t2d.TRANSFORMS[:6], t2d.TRANSFORMS[6:12], t2d.TRANSFORMS[12:]


def test_pinned_api():
    assert isinstance(t2d.TRANSFORMS, tuple) and len(t2d.TRANSFORMS) == 18
    ds = t2d.Transforms2D(objects=[3, 15, 26], transforms=["scale", "pixelate"], n=1000,
                          split="train", seed=483, image_size=32, assets="builtin",
                          backgrounds="images")
    x, y = ds[5]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    assert isinstance(y, int) and 0 <= y < 3
    xb, yb = ds.render(torch.arange(256), epoch=0)
    assert xb.shape == (256, 3, 32, 32) and yb.shape == (256,)
    twin = ds.with_transform_seed(1)
    assert torch.equal(twin.render(torch.arange(256))[1], yb)
    assert len(ds) == 1000 and ds.num_classes == 3 and len(ds.class_names) == 3


@pytest.mark.parametrize("group", [
    pytest.param(GEO, id="geometric"),
    pytest.param(PHOTO, id="photometric", marks=pytest.mark.slow),  # 256 renders of one
    pytest.param(CORR, id="corr", marks=pytest.mark.slow),
])
def test_bit_identical_across_batch_sizes_orders_and_reruns(group):
    ds = Transforms2D(objects=12, transforms=list(group), n=600, seed=11)
    ref, _ = ds.render(torch.arange(256), epoch=3)
    for bs in (1, 7, 256):
        parts = [ds.render(torch.arange(s, min(s + bs, 256)), epoch=3)[0]
                 for s in range(0, 256, bs)]
        assert torch.equal(torch.cat(parts), ref), f"batch size {bs}"
    perm = torch.randperm(256, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ds.render(perm, epoch=3)[0], ref[perm])
    again = Transforms2D(objects=12, transforms=list(group), n=600, seed=11)
    assert torch.equal(again.render(torch.arange(256), epoch=3)[0], ref)


def test_identical_across_dataloader_worker_counts():
    ds = Transforms2D(objects=8, transforms=["rotate", "noise", "elastic", "hue"], n=64, seed=2)
    ds.set_epoch(1)
    out = []
    for workers in (0, 2):
        dl = DataLoader(ds, batch_size=10, num_workers=workers, shuffle=False)
        out.append(torch.cat([x for x, _ in dl]))
    assert torch.equal(out[0], out[1])
    assert torch.equal(out[0], ds.render(torch.arange(64), epoch=1)[0])


def test_epoch_changes_transforms_for_train_only():
    kw = dict(objects=6, transforms=["rotate", "hue"], n=60, seed=5)
    train = Transforms2D(split="train", **kw)
    a, ya = train.render(torch.arange(60), epoch=0)
    b, yb = train.render(torch.arange(60), epoch=1)
    assert torch.equal(ya, yb) and not torch.equal(a, b)
    for split in ("val", "test"):
        ds = Transforms2D(split=split, **kw)
        assert torch.equal(ds.render(torch.arange(60), epoch=0)[0],
                           ds.render(torch.arange(60), epoch=7)[0])


def test_splits_and_seeds_are_independent_streams():
    kw = dict(objects=6, transforms=["rotate"], n=60)
    a = Transforms2D(split="val", seed=1, **kw).render(torch.arange(60))[0]
    b = Transforms2D(split="test", seed=1, **kw).render(torch.arange(60))[0]
    c = Transforms2D(split="val", seed=2, **kw).render(torch.arange(60))[0]
    assert not torch.equal(a, b) and not torch.equal(a, c)


def test_twin_shares_objects_and_backgrounds_not_parameters():
    ds = Transforms2D(objects=6, transforms=["rotate", "brightness"], n=60, split="test", seed=3)
    twin = ds.with_transform_seed(9)
    i1, i2 = ds.renderer.identity(torch.arange(60)), twin.renderer.identity(torch.arange(60))
    for key in ("label", "object", "background", "present"):
        assert torch.equal(i1[key], i2[key])
    assert not torch.equal(ds.render(torch.arange(60))[0], twin.render(torch.arange(60))[0])
    plain = Transforms2D(objects=6, n=60, split="test", seed=3)
    assert torch.equal(plain.render(torch.arange(60))[0],
                       plain.with_transform_seed(9).render(torch.arange(60))[0])


def test_classes_exactly_balanced_and_objects_follow_labels():
    ds = Transforms2D(objects=[4, 9, 1, 30], n=1000, seed=0)
    ident = ds.renderer.identity(torch.arange(1000))
    assert torch.bincount(ident["label"]).tolist() == [250] * 4
    assert torch.equal(ident["object"], ident["label"])
    assert ds.class_names == [ds.pack.object_names[i] for i in (4, 9, 1, 30)]


def test_per_class_transforms():
    ds = Transforms2D(objects=3, transforms={0: ["rotate"], 1: ["invert"]}, n=30, seed=0,
                      split="test")
    twin = ds.with_transform_seed(1)
    x, y = ds.render(torch.arange(30))
    xt, _ = twin.render(torch.arange(30))
    same = (x == xt).flatten(1).all(1)
    assert not same[y == 0].any()  # rotations differ between twins
    assert same[y == 2].all()  # class 2 has no transforms


def test_background_classes_and_correlation():
    ds = Transforms2D(objects=10, class_from="background", n=400, seed=0, correlation=1.0)
    assert ds.num_classes == len(ds.pack.families) and ds.class_names == list(ds.pack.families)
    ident = ds.renderer.identity(torch.arange(400))
    fam = [ds.pack.background_families[int(b)] for b in ident["background"]]
    assert all(ds.class_names[int(y)] == f for y, f in zip(ident["label"], fam))
    assert torch.equal(ident["object"], ident["label"])  # correlation 1: class k ↔ object k
    free = Transforms2D(objects=10, class_from="background", n=400, seed=0, correlation=0.0)
    agree = (free.renderer.identity(torch.arange(400))["object"] == ident["label"]).float()
    assert float(agree.mean()) < 0.3


def test_object_correlation_links_object_class_to_family():
    ds = Transforms2D(objects=4, n=400, seed=0, correlation=1.0)
    ident = ds.renderer.identity(torch.arange(400))
    fams = [ds.pack.background_families[int(b)] for b in ident["background"]]
    assert all(ds.pack.families[int(y)] == f for y, f in zip(ident["label"], fams))


def test_availability_and_background_kinds():
    empty = Transforms2D(objects=3, n=30, backgrounds="black", object_availability=0.0)
    assert torch.equal(empty.render(torch.arange(30))[0], -torch.ones(30, 3, 32, 32))
    rnd = Transforms2D(objects=3, n=30, backgrounds="random", split="test")
    x = rnd.render(torch.arange(30))[0]
    assert float(x.std()) > 0.3
    assert torch.equal(x, rnd.render(torch.arange(30))[0])
    rp = Transforms2D(objects=5, n=10, assets="random", backgrounds="random")
    assert rp.render(torch.arange(10))[0].shape == (10, 3, 32, 32)


def test_loader_covers_every_sample_once_per_epoch():
    ds = Transforms2D(objects=5, transforms=["h_flip"], n=103, seed=4)
    labels = torch.cat([y for _, y in ds.loader(batch_size=20, epoch=0)])
    assert labels.shape == (103,) and torch.bincount(labels).tolist() == [21, 21, 21, 20, 20]
    b0 = next(ds.loader(batch_size=20, epoch=0))[0]
    assert torch.equal(b0, next(ds.loader(batch_size=20, epoch=0))[0])
    assert not torch.equal(b0, next(ds.loader(batch_size=20, epoch=1))[0])
    assert sum(1 for _ in ds.loader(batch_size=20, drop_last=True)) == 5


@pytest.mark.parametrize("kwargs,match", [
    (dict(transforms=["rotat"]), "did you mean 'rotate'"),
    (dict(objects=500), "has .* objects"),
    (dict(objects=10, n=5), "smaller than the number of classes"),
    (dict(image_size=4), "image_size"),
    (dict(split="training"), "split"),
    (dict(backgrounds="white"), "backgrounds"),
    (dict(assets="nope"), "Unknown asset pack"),
    (dict(assets="folder:/nonexistent/dir"), "nonexistent"),
    (dict(assets="random"), "no background images"),
    (dict(objects=[1, 1]), "twice"),
    (dict(correlation=1.5), "correlation"),
    (dict(transforms={7: ["rotate"]}, objects=3), "classes are 0..2"),
])
def test_bad_input_is_a_one_line_error(kwargs, match):
    with pytest.raises(ConfigError, match=match) as e:
        Transforms2D(**{"n": 100, **kwargs})
    assert "\n" not in str(e.value)


def test_index_out_of_range():
    ds = Transforms2D(objects=2, n=10)
    with pytest.raises(IndexError):
        ds[10]
    with pytest.raises(IndexError):
        ds.render(torch.tensor([3, 10]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 8),
    names=st.lists(st.sampled_from(t2d.TRANSFORMS), max_size=3),
    size=st.sampled_from([8, 13, 24, 32]),
    extra=st.integers(0, 20),
    split=st.sampled_from(["train", "val", "test"]),
    seed=st.integers(0, 2**40),
    bg=st.sampled_from(["images", "random", "black"]),
)
def test_random_valid_specs(k, names, size, extra, split, seed, bg):
    n = k + extra
    ds = Transforms2D(objects=k, transforms=names, n=n, split=split, seed=seed,
                      image_size=size, backgrounds=bg)
    x, y = ds.render(torch.arange(n), epoch=1)
    assert x.shape == (n, 3, size, size) and x.dtype == torch.float32
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0 and torch.isfinite(x).all()
    assert int(y.min()) >= 0 and int(y.max()) < k
    one = ds.render(torch.tensor([n - 1]), epoch=1)[0][0]
    assert torch.equal(one, x[n - 1])


@pytest.mark.parametrize("name", [*PHOTO, "noise", "contrast"])
def test_rgb_transforms_leave_the_background_untouched(name):
    kw = dict(objects=4, n=40, split="test", seed=8)
    plain, ds = Transforms2D(**kw), Transforms2D(transforms=[name], **kw)
    obj = plain.renderer.identity(torch.arange(40))["object"]
    outside = (plain.renderer.canvases[obj][:, 3:4] == 0).expand(-1, 3, -1, -1)
    a, b = plain.render(torch.arange(40))[0], ds.render(torch.arange(40))[0]
    assert torch.equal(a[outside], b[outside])
    assert not torch.equal(a[~outside], b[~outside])


# -- object size and placement (the irrelevant-features study, docs/protocol.md §6 E2) ---
def _object_boxes(ds, n):
    x, _ = ds.render(torch.arange(n))
    mask = (x > -1).any(1)  # black background: any lit pixel belongs to the object
    out = []
    for m in mask:
        ys, xs = m.nonzero(as_tuple=True)
        out.append((int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())))
    return out


def test_corner_objects_sit_in_the_upper_right_box():
    ds = Transforms2D(objects=8, n=16, object_scale=0.375, object_position="corner",
                      backgrounds="black", split="test")
    for y0, y1, x0, x1 in _object_boxes(ds, 16):  # box 12 px at top 1, left 32-12-1 = 19
        assert y0 >= 1 and y1 <= 12 and x0 >= 19 and x1 <= 30


def test_anywhere_objects_move_per_sample_stay_inside_and_are_deterministic():
    kw = dict(objects=8, n=64, object_scale=0.375, object_position="anywhere",
              backgrounds="black", split="test")
    boxes = _object_boxes(Transforms2D(**kw), 64)
    assert boxes == _object_boxes(Transforms2D(**kw), 64)
    assert all(min(y0, x0) >= 0 and max(y1, x1) <= 31 for y0, y1, x0, x1 in boxes)
    tops, lefts = {b[0] for b in boxes}, {b[2] for b in boxes}
    assert len(tops) > 8 and len(lefts) > 8  # spread over the canvas, not one place
    assert min(tops) <= 5 and max(tops) >= 15
    # the twin of the invariance metric keeps each sample's place
    twin = Transforms2D(**kw).with_transform_seed(3)
    assert _object_boxes(twin, 64) == boxes


def test_object_scale_out_of_range_is_one_line_error():
    with pytest.raises(ConfigError, match="object_scale"):
        Transforms2D(objects=2, n=4, object_scale=0.0)
    with pytest.raises(ConfigError, match="object_position"):
        Transforms2D(objects=2, n=4, object_position="left")


def test_default_placement_leaves_existing_images_unchanged():
    a = Transforms2D(objects=5, transforms="rotate,hue", n=20)
    b = Transforms2D(objects=5, transforms="rotate,hue", n=20, object_scale=0.7,
                     object_position="center")
    assert torch.equal(a.render(torch.arange(20))[0], b.render(torch.arange(20))[0])


# -- twins that redraw one factor (invariance to the object / scene, docs/protocol.md §6 E2)
def test_object_twin_keeps_scene_label_and_transforms_and_always_swaps_the_object():
    ds = Transforms2D(objects=10, n=200, class_from="background", transforms="rotate",
                      object_scale=0.375, object_position="corner", split="test")
    a = ds.renderer.identity(torch.arange(200))
    b = ds.twin("object", 1).renderer.identity(torch.arange(200))
    assert torch.equal(a["background"], b["background"]) and torch.equal(a["label"], b["label"])
    assert (a["object"] != b["object"]).all()
    assert len(set(b["object"].tolist())) == 10  # every other object occurs
    # only the object changed: without transforms, the pixels outside the corner box are equal
    plain = Transforms2D(objects=10, n=200, class_from="background", object_scale=0.375,
                         object_position="corner", split="test")
    xa, xb = plain.render(torch.arange(50))[0], plain.twin("object", 1).render(torch.arange(50))[0]
    outside = torch.ones(32, 32, dtype=torch.bool)
    outside[1:13, 19:31] = False
    assert torch.equal(xa[..., outside], xb[..., outside]) and not torch.equal(xa, xb)
    c = ds.twin("object", 2).renderer.identity(torch.arange(200))
    assert not torch.equal(b["object"], c["object"])


def test_background_twin_keeps_object_and_label_and_redraws_the_scene():
    ds = Transforms2D(objects=10, n=200, split="test")
    a = ds.renderer.identity(torch.arange(200))
    b = ds.twin("background", 1).renderer.identity(torch.arange(200))
    assert torch.equal(a["object"], b["object"]) and torch.equal(a["label"], b["label"])
    assert (a["background"] != b["background"]).float().mean() > 0.95
    assert torch.equal(ds.twin("background", 0).render(torch.arange(9))[0],
                       ds.render(torch.arange(9))[0])


def test_twins_refuse_the_factor_that_is_the_label():
    with pytest.raises(ConfigError, match="class_from='background'"):
        Transforms2D(objects=4, n=8).twin("object", 1)
    with pytest.raises(ConfigError, match="class_from='object'"):
        Transforms2D(objects=4, n=16, class_from="background").twin("background", 1)
    with pytest.raises(ConfigError, match="factor"):
        Transforms2D(objects=4, n=8).twin("colour", 1)
