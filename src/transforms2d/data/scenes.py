"""``objects``: an offline stand-in for CIFAR-10 in the irrelevant-features experiment (E2).

CIFAR-10 images need shape recognition: a model trained to classify them learns features that
also serve other shape tasks (the paper's C/C model transfers to recognising the small pasted
object at 0.80). Nature scenes labelled by family are no such stand-in (a colour histogram
tells them apart), so this pack renders its own labelled "photos": each image is a Transforms-2D
sample of one of 10 large builtin objects (60-69, disjoint from the first 60 the experiments
paste) under random scale, rotation and hue on a nature background; its class is the object.
The images are fixed per split, like a dataset of photographs: ``train`` and ``val`` and
``test`` are independent renderings (:data:`PER_CLASS` images per class), so test scenes are
never seen in training.

Used as ``Transforms2D(..., background_pack="objects", class_from="background")``; registered
as a background pack (``t2d assets`` lists it). Rendered on first use in each process (about a
second), at 32 px.
"""

from __future__ import annotations

import functools

import torch

from ..assets import AssetPack, load_builtin, register_background_pack
from .dataset import Transforms2D

SCENE_OBJECTS = tuple(range(60, 70))  # builtin objects the experiments never paste (0-59)
SCENE_TRANSFORMS = ("scale", "rotate", "hue")  # shape, not colour or pose, tells them apart
PER_CLASS = {"train": 1000, "val": 100, "test": 500}
SCENE_SEED = 0x5CE7E
SIZE = 32


@functools.lru_cache(maxsize=3)
def object_scenes(split: str) -> AssetPack:
    """The stand-in's images of ``split``: ``10 * PER_CLASS[split]`` RGB images (3, 32, 32)
    uint8, families = the scene objects' names, each image used once per pass of a class."""
    names = load_builtin().object_names
    ds = Transforms2D(objects=list(SCENE_OBJECTS), transforms=list(SCENE_TRANSFORMS),
                      n=len(SCENE_OBJECTS) * PER_CLASS[split], split=split, seed=SCENE_SEED,
                      image_size=SIZE)
    images, labels = [], []
    for start in range(0, len(ds), 2048):
        x, y = ds.render(torch.arange(start, min(start + 2048, len(ds))))
        images.append(((x + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8))
        labels.append(y)
    images_t, labels_t = torch.cat(images), torch.cat(labels)
    return AssetPack(
        name="objects", objects=[], object_names=(), backgrounds=list(images_t.unbind(0)),
        background_families=tuple(names[SCENE_OBJECTS[i]] for i in labels_t.tolist()),
        description=f"stand-in for CIFAR-10: {len(SCENE_OBJECTS)} large builtin objects under "
                    f"{', '.join(SCENE_TRANSFORMS)} on nature backgrounds, {split} split",
        license="rendered from the builtin pack (Noto Color Emoji, OFL-1.1)",
        cycle_backgrounds=True)


register_background_pack(
    "objects", lambda split, _arg: object_scenes(split),
    f"stand-in for CIFAR-10 (E2): {len(SCENE_OBJECTS)} large builtin objects (60-69) under "
    f"{', '.join(SCENE_TRANSFORMS)} on nature backgrounds, one class each; fixed per split")
