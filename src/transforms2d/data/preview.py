"""Preview grids like the paper's Figure 1: one row per transformation, one column per sample."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from ..io import atomic_write
from ..validation import check_int
from .dataset import Transforms2D
from .spec import parse_transforms


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` float in [-1, 1] → ``(B, H, W, 3)`` uint8."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1)


def preview_grid(
    transforms: Sequence[str],
    per_row: int = 8,
    image_size: int = 64,
    upscale: int = 2,
    seed: int = 0,
    assets: str = "builtin",
    backgrounds: str = "images",
    objects: int | Sequence[int] | None = None,
) -> Image.Image:
    """Render a grid: row r shows ``per_row`` samples with only ``transforms[r]`` applied.

    Each column shows another object (the pack's first ``per_row`` objects by default), so a
    row reads as "this transformation on several objects"; rows share objects and backgrounds.
    """
    check_int("per_row", per_row, 1)
    check_int("upscale", upscale, 1)
    rows = []
    for name in transforms:
        parse_transforms([name])  # validates the name before any rendering
        ds = Transforms2D(objects=per_row if objects is None else objects, transforms=[name],
                          n=per_row, split="test", seed=seed, image_size=image_size,
                          assets=assets, backgrounds=backgrounds)
        rows.append(to_uint8(ds.render(torch.arange(per_row))[0]))
    tile = image_size * upscale
    font = ImageFont.load_default()
    label_w = 8 + max(int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(n, font=font))
                      for n in transforms)
    pad = 2
    grid = Image.new("RGB", (label_w + per_row * (tile + pad), len(rows) * (tile + pad)), "white")
    draw = ImageDraw.Draw(grid)
    for r, (name, imgs) in enumerate(zip(transforms, rows)):
        y = r * (tile + pad)
        draw.text((4, y + tile // 2 - 6), name, fill="black", font=font)
        for c in range(imgs.shape[0]):
            im = Image.fromarray(imgs[c].numpy()).resize((tile, tile), Image.NEAREST)
            grid.paste(im, (label_w + c * (tile + pad), y))
    return grid


def save_atomic(image: Image.Image, out: str | os.PathLike) -> Path:
    """Write a PNG atomically, so a failure leaves nothing behind."""
    return atomic_write(out, lambda tmp: image.save(tmp, format="PNG"))
