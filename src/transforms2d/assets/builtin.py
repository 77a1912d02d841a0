"""The shipped ``builtin`` pack: emoji objects and procedural nature backgrounds, offline.

The data lives in ``builtin_data/`` as two lossless PNG atlases of 64×64 tiles (row-major)
plus JSON metadata in atlas order; ``tools/build_builtin_pack.py`` rebuilds it.
"""

from __future__ import annotations

import functools
import io
import json
from importlib import resources

import numpy as np
import torch
from PIL import Image

from .base import AssetPack

TILE = 64
DATA = "builtin_data"


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath(DATA, name).read_bytes()


def _tiles(png: str, mode: str, count: int) -> list[torch.Tensor]:
    """The first ``count`` tiles of an atlas, each ``(C, TILE, TILE)`` uint8, row-major."""
    with Image.open(io.BytesIO(_read(png))) as im:
        arr = np.asarray(im.convert(mode))  # (H, W, C)
    cols = arr.shape[1] // TILE
    assert arr.shape[0] % TILE == 0 and arr.shape[1] % TILE == 0, f"{png}: bad atlas size"
    assert count <= cols * (arr.shape[0] // TILE), f"{png}: fewer tiles than metadata entries"
    chw = torch.from_numpy(arr.copy()).permute(2, 0, 1)
    out = []
    for i in range(count):
        r, c = divmod(i, cols)
        out.append(chw[:, r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE].contiguous())
    return out


@functools.lru_cache(maxsize=1)
def load_builtin() -> AssetPack:
    """The builtin pack (decoded once, then cached; do not modify its tensors in place).

    Objects: ``(4, 64, 64)`` uint8 RGBA, straight alpha, named e.g. ``"red_apple"``.
    Backgrounds: ``(3, 64, 64)`` uint8 RGB, families ``sky, sea, forest, desert, snow, meadow,
    rock, night``, interleaved so that any prefix of the list is varied.
    """
    objects = json.loads(_read("objects.json"))
    backgrounds = json.loads(_read("backgrounds.json"))
    return AssetPack(
        name="builtin",
        objects=_tiles("objects.png", "RGBA", len(objects)),
        object_names=tuple(o["name"] for o in objects),
        backgrounds=_tiles("backgrounds.png", "RGB", len(backgrounds)),
        background_families=tuple(b["family"] for b in backgrounds),
        description=(f"shipped offline pack: {len(objects)} emoji objects (Noto Color Emoji), "
                     f"{len(backgrounds)} procedural nature backgrounds"),
        license=_read("LICENSE-ASSETS.md").decode("utf-8"),
    )


def object_categories() -> dict[str, str]:
    """Object name → category (food, household, vehicle, animal, plant, tool)."""
    return {o["name"]: o["category"] for o in json.loads(_read("objects.json"))}
