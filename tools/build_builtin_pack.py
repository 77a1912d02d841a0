"""Rebuild the shipped ``builtin`` asset pack into ``src/transforms2d/assets/builtin_data/``.

Maintainers only; users never run this. Needs Debian's ``fonts-noto-color-emoji``
(``apt-get install -y fonts-noto-color-emoji``), numpy and Pillow. Deterministic: running it
twice gives byte-identical files (``--check`` rebuilds into a temporary folder and compares).

Output (64×64 tiles, row-major, lossless PNG so decoding is identical across Pillow versions):
- ``objects.png``: RGBA atlas, straight alpha, one emoji per tile; ``objects.json``: a list, in
  atlas order, of ``{"name", "category", "codepoint"}``.
- ``backgrounds.png``: RGB atlas of procedural nature scenes; ``backgrounds.json``: a list, in
  atlas order, of ``{"family", "seed"}``.
- ``LICENSE-ASSETS.md``: provenance and licences.

Usage: python tools/build_builtin_pack.py [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procedural_backgrounds as pb  # noqa: E402
from emoji_objects import interleaved  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "transforms2d" / "assets" / "builtin_data"
FONT_PATH = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
FONT_PACKAGE = "fonts-noto-color-emoji"
FONT_SIZE = 109  # the only bitmap strike of the CBDT font (136×128 px glyphs)
TILE = 64
OBJECT_COLUMNS = 12
BACKGROUND_COLUMNS = 32
BACKGROUNDS_PER_FAMILY = 109  # 8 families × 109 = 872 ≥ the paper's 867
MIN_OBJECTS = 64


# --------------------------------------------------------------------------- objects
def load_font() -> ImageFont.FreeTypeFont:
    if not FONT_PATH.is_file():
        sys.exit(f"error: {FONT_PATH} not found; install it with "
                 f"'apt-get install -y {FONT_PACKAGE}' (Debian/Ubuntu) and rerun.")
    return ImageFont.truetype(str(FONT_PATH), FONT_SIZE)


def font_version() -> str:
    """The Debian package version of the font, for the licence file."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", FONT_PACKAGE],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render_emoji(font: ImageFont.FreeTypeFont, codepoint: int) -> Image.Image:
    """One emoji as a ``TILE``×``TILE`` RGBA image with straight alpha.

    Cropped to its alpha bounding box, padded to a centred square (aspect kept, about one
    transparent pixel of margin at the tile size), then downscaled with Lanczos; Pillow resizes
    RGBA in premultiplied form, so transparent pixels do not bleed dark fringes.
    """
    canvas = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((20, 20), chr(codepoint), font=font, embedded_color=True)
    bbox = canvas.getchannel("A").getbbox()
    if bbox is None:
        raise SystemExit(f"error: the font has no glyph for U+{codepoint:04X}")
    glyph = canvas.crop(bbox)
    w, h = glyph.size
    side = math.ceil(max(w, h) * TILE / (TILE - 2))
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(glyph, ((side - w) // 2, (side - h) // 2))
    tile = np.asarray(square.resize((TILE, TILE), Image.Resampling.LANCZOS)).copy()
    tile[tile[..., 3] == 0, :3] = 0  # canonical colour under full transparency
    return Image.fromarray(tile, "RGBA")


def build_objects() -> tuple[Image.Image, list[dict]]:
    font = load_font()
    entries = interleaved()
    names = [n for n, _, _ in entries]
    assert len(set(names)) == len(names), "object names must be unique"
    assert len(entries) >= MIN_OBJECTS, f"need at least {MIN_OBJECTS} objects"
    tiles = [render_emoji(font, cp) for _, _, cp in entries]
    for (name, _, _), t in zip(entries, tiles, strict=True):
        a = np.asarray(t)[..., 3]
        assert a.min() == 0 and a.max() == 255, f"{name}: alpha lacks transparent/opaque pixels"
    digests = {hashlib.sha256(t.tobytes()).hexdigest() for t in tiles}
    assert len(digests) == len(tiles), "two objects rendered identically (missing glyphs?)"
    atlas = make_atlas(tiles, OBJECT_COLUMNS, "RGBA")
    meta = [{"name": n, "category": c, "codepoint": f"U+{cp:04X}"} for n, c, cp in entries]
    return atlas, meta


# --------------------------------------------------------------------------- backgrounds
def build_backgrounds() -> tuple[Image.Image, list[dict]]:
    """Families interleaved (tile i has family i mod 8), so any prefix of the pack is varied."""
    tiles, meta = [], []
    for seed in range(BACKGROUNDS_PER_FAMILY):
        for family in pb.FAMILIES:
            tiles.append(Image.fromarray(pb.render(family, seed), "RGB"))
            meta.append({"family": family, "seed": seed})
    return make_atlas(tiles, BACKGROUND_COLUMNS, "RGB"), meta


# --------------------------------------------------------------------------- files
def make_atlas(tiles: list[Image.Image], columns: int, mode: str) -> Image.Image:
    rows = math.ceil(len(tiles) / columns)
    atlas = Image.new(mode, (columns * TILE, rows * TILE))  # unused slots stay zero
    for i, t in enumerate(tiles):
        atlas.paste(t, ((i % columns) * TILE, (i // columns) * TILE))
    return atlas


def save_png(img: Image.Image, path: Path) -> None:
    # no text chunks, no timestamps: the bytes depend on the pixels only
    img.save(path, "PNG", optimize=True)


def save_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")


LICENSE_TEXT = """\
# Licences of the builtin asset pack

Generated by `tools/build_builtin_pack.py`; do not edit the files in this folder by hand.

## Objects (`objects.png`, `objects.json`)

- Content: {n_objects} emoji pictograms of real objects; categories: {categories}.
- Source: the Noto Color Emoji font (`NotoColorEmoji.ttf`, CBDT bitmaps), from the Debian
  package `{package}` version {version}
  (upstream https://github.com/googlefonts/noto-emoji).
- Copyright 2013-2017 Google Inc. and Arjen Nienhuis. The font is licensed under the SIL Open
  Font License, Version 1.1 (https://openfontlicense.org); upstream's other image resources are
  under the Apache License 2.0. The tiles here are images rendered with the font (the OFL's
  licence requirement does not extend to documents created using the font); we keep this
  attribution with them.
- Processing: each glyph rendered with Pillow at size 109, cropped to its alpha bounding box,
  padded to a centred square and downscaled (Lanczos) to 64×64 RGBA with straight alpha.

## Backgrounds (`backgrounds.png`, `backgrounds.json`)

- Content: {n_backgrounds} procedural nature scenes; families: {families}.
- Source: generated from fixed seeds by `tools/procedural_backgrounds.py` (1/f-spectrum noise;
  no photographs or third-party images).
- Licence: part of this project and licensed like it, under the MIT License.
"""


def build(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    objects, obj_meta = build_objects()
    backgrounds, bg_meta = build_backgrounds()
    save_png(objects, out / "objects.png")
    save_json(obj_meta, out / "objects.json")
    save_png(backgrounds, out / "backgrounds.png")
    save_json(bg_meta, out / "backgrounds.json")
    cats = list(dict.fromkeys(m["category"] for m in obj_meta))
    fams = list(dict.fromkeys(m["family"] for m in bg_meta))
    (out / "LICENSE-ASSETS.md").write_text(LICENSE_TEXT.format(
        n_objects=len(obj_meta), categories=", ".join(cats), package=FONT_PACKAGE,
        version=font_version(), n_backgrounds=len(bg_meta),
        families=", ".join(f"{f} ×{sum(m['family'] == f for m in bg_meta)}" for f in fams),
    ), encoding="utf-8")
    return sorted(p for p in out.iterdir() if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true",
                    help="rebuild into a temporary folder and compare with --out byte for byte")
    args = ap.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            files = build(Path(tmp))
            bad = [p.name for p in files
                   if not filecmp.cmp(p, args.out / p.name, shallow=False)]
        if bad:
            sys.exit(f"error: rebuilt files differ from {args.out}: {', '.join(bad)}")
        print(f"ok: {len(files)} files in {args.out} are reproduced byte for byte")
        return
    files = build(args.out)
    total = 0
    for p in files:
        size = p.stat().st_size
        total += size
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        print(f"{p.name:20s} {size / 1e6:8.3f} MB  sha256 {digest}")
    print(f"{'total':20s} {total / 1e6:8.3f} MB")


if __name__ == "__main__":
    main()
