"""Fuzzing the dataset constructors: ``Transforms2D(...)`` and ``TransformedCIFAR(...)`` with
generated arguments (valid, out of range, wrong types, unknown names, garbage).

Property: a one-line ConfigError naming one of the arguments given, or a dataset whose first
samples render as finite images in the documented range with labels in ``[0, num_classes)``;
nothing written outside the test's folders.

Cases (Hypothesis, derandomized): 250 Transforms2D argument sets, 150 transform lists (names,
comma strings, ``(name, {params})`` with generated hyper-parameters, per-class dicts),
120 TransformedCIFAR argument sets on a small real archive: 520 in all.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import strategies as st

from tests.helpers.fuzz import FLOATS, GARBAGE, INTS, expect, run_cases, text
from transforms2d import Transforms2D
from transforms2d.data import TransformedCIFAR
from transforms2d.transforms import REGISTRY, transform_names

NAMES = [*transform_names(), "none"]
FAMILIES = ["sky", "sea", "forest", "desert", "snow", "meadow", "rock", "night"]
BASE = dict(objects=4, n=8, image_size=16)
BIG = [2 ** 31, 2 ** 63 - 1, 2 ** 63, 10 ** 30, 10 ** 400]  # counts no data set has

#: Words that name each argument in an error message (any of them; lower case).
ALIASES = {
    "objects": ("object", "classes"), "transforms": ("transform",), "n": ("'n'", "n="),
    "split": ("split",), "seed": ("seed",), "image_size": ("image_size", "px"),
    "assets": ("asset", "pack"), "backgrounds": ("background",), "class_from": ("class_from",),
    "families": ("famil",), "correlation": ("correlation",),
    "object_availability": ("object_availability",), "object_scale": ("object_scale",),
    "object_position": ("object_position",), "transform_seed": ("transform_seed",),
    "epoch": ("epoch",), "device": ("device",),
    "background_pack": ("background pack", "pack", "cifar", "background"),
    # TransformedCIFAR
    "name": ("'name'", "cifar"), "classes": ("class",), "n_per_class": ("n_per_class",),
    "fraction": ("fraction",), "normalize": ("normalize",), "root": ("cifar", "root"),
    "download": ("download",),
}


def names_of(kw) -> list[str]:
    return [a for k in kw for a in ALIASES[k]]


# --------------------------------------------------------------------------- strategies
def hyper_value(default):
    """A generated value for a hyper-parameter whose paper value is ``default``."""
    if isinstance(default, tuple):
        pair = st.tuples(FLOATS | INTS, FLOATS | INTS).map(list) | st.tuples(
            st.floats(-400, 400), st.floats(-400, 400)).map(sorted)
        return pair | GARBAGE
    small = st.floats(-2, 40) if isinstance(default, float) else st.integers(-2, 40)
    return small | FLOATS | INTS | GARBAGE


@st.composite
def transform_item(draw):
    """A transform list entry: a name (known or not) or ``(name, {param: value})``."""
    name = draw(st.sampled_from(NAMES) | text(8))
    if draw(st.booleans()):
        return name
    defaults = REGISTRY[name].defaults if name in REGISTRY else {}
    keys = draw(st.lists(st.sampled_from([*defaults, "p", "bogus"]) if defaults else
                         st.sampled_from(["p", "bogus"]), max_size=3, unique=True))
    params = {k: draw(hyper_value(defaults.get(k, 0.5))) for k in keys}
    pair = draw(st.sampled_from(["tuple", "list", "bad"]))
    if pair == "bad":
        return (name, draw(GARBAGE))
    return (name, params) if pair == "tuple" else [name, params]


TRANSFORM_LISTS = (
    st.lists(transform_item(), max_size=4)
    | st.lists(st.sampled_from(NAMES) | text(6), max_size=4).map(",".join)
    | st.sampled_from(["all", "", ",", " rotate , hue ", "rotate,,blur", "none", "rotat"])
    | st.dictionaries(INTS | text(3), st.lists(transform_item(), max_size=2), max_size=3)
    | GARBAGE
)

VALUES = {
    "objects": st.integers(-1, 9) | st.lists(st.integers(-2, 75), max_size=5) | GARBAGE,
    "transforms": TRANSFORM_LISTS,
    "n": st.integers(-1, 8) | st.sampled_from([10 ** 12, *BIG]) | GARBAGE,
    "split": st.sampled_from(["train", "val", "test"]) | GARBAGE,
    "seed": st.integers(-1, 3) | INTS | GARBAGE,
    "image_size": st.integers(-1, 16) | GARBAGE,
    "assets": st.sampled_from(["builtin", "random", "nope", "folder:", "folder:/nonexistent",
                               "random:x", " builtin", "hub:/nonexistent-hub"]) | GARBAGE,
    "backgrounds": st.sampled_from(["images", "random", "black"]) | GARBAGE,
    "class_from": st.sampled_from(["object", "background"]) | GARBAGE,
    "families": st.none() | st.lists(st.sampled_from(FAMILIES) | text(4), max_size=4)
    | GARBAGE,
    "correlation": st.sampled_from([0, 0.0, 0.5, 1]) | FLOATS | INTS | GARBAGE,
    "object_availability": st.sampled_from([0, 0.5, 1.0]) | FLOATS | INTS | GARBAGE,
    "object_scale": st.floats(-0.5, 1.5) | FLOATS | INTS | GARBAGE,
    "object_position": st.sampled_from(["center", "corner", "anywhere"]) | GARBAGE,
    "transform_seed": st.integers(-1, 3) | GARBAGE,
    "epoch": st.integers(-1, 3) | GARBAGE,
    "device": st.sampled_from(["cpu", "cuda", "cuda:7", "gpu", "cpu:0", "meta", ""]) | GARBAGE,
    "background_pack": st.sampled_from(["cifar10", "cifar100:", "cifar10:/nonexistent", "nope",
                                        "builtin", "random", "objects", "folder:"]) | GARBAGE,
}


def arguments(keys, values=VALUES, max_size=4):
    """A dict of 1..max_size arguments drawn from ``values``."""
    return st.lists(st.sampled_from(keys), min_size=1, max_size=max_size, unique=True).flatmap(
        lambda ks: st.fixed_dictionaries({k: values[k] for k in ks}))


def check_batch(ds, low: float = -1.0, high: float = 1.0) -> None:
    """Render the first samples: finite float32 images in [low, high], labels in range."""
    k = min(len(ds), 8)
    x, y = ds.render(torch.arange(k))
    size = ds.spec.image_size
    assert x.shape == (k, 3, size, size) and x.dtype == torch.float32, x.shape
    assert torch.isfinite(x).all(), "non-finite pixels"
    assert float(x.min()) >= low and float(x.max()) <= high, (float(x.min()), float(x.max()))
    assert y.shape == (k,) and int(y.min()) >= 0 and int(y.max()) < ds.num_classes


# --------------------------------------------------------------------------- Transforms2D
def test_transforms2d_arguments(sandbox):
    def check(kw):
        ds, msg = expect(lambda: Transforms2D(**{**BASE, **kw}), names_of(kw))
        if ds is not None:
            _, msg = expect(lambda: check_batch(ds), names_of(kw))
        sandbox.check()

    run_cases("Transforms2D arguments", 250, arguments(list(VALUES)), check)


def test_transforms2d_transform_lists(sandbox):
    def check(transforms):
        ds, _ = expect(lambda: Transforms2D(**BASE, transforms=transforms), ["transform"])
        if ds is not None:
            expect(lambda: check_batch(ds), ["transform"])
            for twin in (ds.with_transform_seed(1), ds.with_split("test", 4)):
                expect(lambda t=twin: check_batch(t), ["transform"])
        sandbox.check()

    run_cases("Transforms2D transforms", 150, TRANSFORM_LISTS, check)


# --------------------------------------------------------------------------- TransformedCIFAR
@pytest.fixture
def cifar_values(cifar_root, tmp_path):
    """Generated TransformedCIFAR arguments; ``root`` is the small archive of ``cifar_root``,
    a missing folder, a file, an empty folder or garbage."""
    empty = tmp_path / "empty-root"
    empty.mkdir()
    afile = tmp_path / "a-file"
    afile.write_text("not cifar")
    return {
        "name": st.sampled_from(["cifar10", "cifar100", "cifar", "CIFAR10"]) | GARBAGE,
        "transforms": TRANSFORM_LISTS,
        "split": st.sampled_from(["train", "val", "test"]) | GARBAGE,
        "classes": st.none() | st.lists(st.integers(-1, 101), max_size=4) | GARBAGE,
        "n": st.none() | st.integers(-1, 30) | st.sampled_from(BIG) | GARBAGE,
        "n_per_class": st.none() | st.integers(-1, 25) | st.sampled_from(BIG) | GARBAGE,
        "fraction": st.none() | st.floats(-0.5, 1.5) | FLOATS | INTS | GARBAGE,
        "seed": st.integers(-1, 3) | GARBAGE,
        "transform_seed": st.integers(-1, 3) | GARBAGE,
        "normalize": st.sampled_from(["cifar", "half"]) | GARBAGE,
        "root": st.sampled_from([str(cifar_root), cifar_root, str(tmp_path / "missing"),
                                 str(empty), str(afile), None]) | GARBAGE,
        "download": st.just(False),  # True would reach for the network where data is missing
        "epoch": st.integers(-1, 3) | GARBAGE,
        "device": st.sampled_from(["cpu", "cuda", "gpu", "meta"]) | GARBAGE,
    }


def test_transformed_cifar_arguments(sandbox, cifar_root, cifar_values):
    def check(kw):
        counted = any(k in kw for k in ("n", "n_per_class", "fraction"))
        kw = {"root": cifar_root, **({} if counted else {"n": 20}), **kw}
        ds, _ = expect(lambda: TransformedCIFAR(**kw), names_of(kw))
        if ds is not None:
            low, high = (-1.0, 1.0) if ds.spec.normalize == "half" else (-math.inf, math.inf)
            expect(lambda: check_batch(ds, low, high), names_of(kw))
        sandbox.check(cifar_root)

    run_cases("TransformedCIFAR arguments", 120, arguments(list(cifar_values), cifar_values),
              check)
