"""The ``objects`` background pack (``transforms2d.data.scenes``): E2's offline stand-in for
CIFAR-10, 10 large builtin objects (60-69) rendered as labelled "photos", fixed per split and
registered as a split-dependent background pack."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import one_line
from transforms2d import Transforms2D
from transforms2d.assets import (
    BACKGROUND_PACKS,
    BackgroundPackInfo,
    load_background_pack,
    load_builtin,
)
from transforms2d.data import object_scenes
from transforms2d.data.scenes import PER_CLASS, SCENE_OBJECTS, SCENE_TRANSFORMS, SIZE
from transforms2d.errors import ConfigError


def image_keys(pack) -> list[bytes]:
    return [img.numpy().tobytes() for img in pack.backgrounds]


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_the_pack_renders_ten_classes_named_after_builtin_objects_60_to_69(split):
    pack = object_scenes(split)
    names = load_builtin().object_names
    assert tuple(range(60, 70)) == SCENE_OBJECTS and set(SCENE_TRANSFORMS) == {
        "scale", "rotate", "hue"}
    assert pack.name == "objects" and pack.num_objects == 0 and pack.cycle_backgrounds
    n = 10 * PER_CLASS[split]
    assert len(pack.backgrounds) == len(pack.background_families) == n
    assert all(img.shape == (3, SIZE, SIZE) and img.dtype == torch.uint8
               for img in pack.backgrounds)
    assert pack.families == tuple(names[i] for i in SCENE_OBJECTS)  # 10 families, in order
    assert all(f == names[SCENE_OBJECTS[i % 10]] for i, f in enumerate(pack.background_families))
    assert split in pack.description and "OFL" in pack.license
    # the images are scenes, not blank: every one has colour and structure
    stack = torch.stack(pack.backgrounds[:200]).float()
    assert (stack.flatten(1).std(1) > 5).all()


def test_splits_are_independent_renderings_and_fixed():
    train, val, test = (object_scenes(s) for s in ("train", "val", "test"))
    keys = {s: set(image_keys(p)) for s, p in (("train", train), ("val", val), ("test", test))}
    assert len(keys["test"]) == len(test.backgrounds)  # no image twice
    assert not keys["test"] & keys["train"] and not keys["val"] & keys["train"]
    assert not keys["test"] & keys["val"]
    assert object_scenes("test") is test  # rendered once per process
    again = object_scenes.__wrapped__("val")  # rendered anew: the same images
    assert image_keys(again) == image_keys(val) and again.background_families == \
        val.background_families


def test_registered_as_a_background_pack():
    info = BACKGROUND_PACKS["objects"]
    assert isinstance(info, BackgroundPackInfo) and info.argument is None
    assert "60-69" in info.description
    assert load_background_pack("objects", "test") is object_scenes("test")
    assert load_background_pack(" objects ", "val") is object_scenes("val")
    with pytest.raises(ConfigError) as e:
        load_background_pack("objects:/data", "test")
    one_line(e, "takes no argument", "'objects'")


def test_a_dataset_on_the_pack_is_labelled_by_scene_class():
    """``class_from="background"`` labels each sample by the scene's object; the test split's
    samples use the test scenes only, each once per pass of a class."""
    n = 10 * PER_CLASS["test"]
    ds = Transforms2D(objects=10, transforms=(), n=n, split="test", background_pack="objects",
                      class_from="background", object_availability=0.0)
    names = load_builtin().object_names
    assert ds.num_classes == 10 and ds.class_names == [names[i] for i in SCENE_OBJECTS]
    x, y = ds.render(torch.arange(n))
    rendered = ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    family = {k: f for k, f in zip(image_keys(object_scenes("test")),
                                   object_scenes("test").background_families)}
    keys = [img.numpy().tobytes() for img in rendered]
    assert all(k in family for k in keys)  # every sample is one of the test scenes, unchanged
    assert [family[k] for k in keys] == [ds.class_names[c] for c in y.tolist()]
    assert len(set(keys)) == n  # all of them, each once
    assert torch.bincount(y, minlength=10).tolist() == [PER_CLASS["test"]] * 10
