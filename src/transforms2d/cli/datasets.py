"""``t2d preview``, ``t2d transforms`` and ``t2d assets``: the data and what it is made of."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from .app import app, console, fail, int_option


@app.command()
def preview(
    transforms: Annotated[str, typer.Option(help="Comma-separated transforms, one per row, or "
                                            "'all' (every registered one).")] =
        "rotate,hue,blur,translate",
    per_row: Annotated[int, int_option(help="Samples per row.")] = 8,
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("fig1.png"),
    image_size: Annotated[int, int_option(help="Render size in pixels.")] = 64,
    upscale: Annotated[int, int_option(help="Nearest-neighbour upscaling for viewing.")] = 2,
    seed: Annotated[int, int_option(help="Dataset seed.")] = 0,
    assets: Annotated[str, typer.Option(help="Asset pack (see `t2d assets`).")] = "builtin",
    backgrounds: Annotated[str, typer.Option(help="images, random or black.")] = "images",
) -> None:
    """Write a preview grid like the paper's Figure 1 (one row per transformation)."""
    from ..data.preview import preview_grid, save_atomic
    from ..transforms import transform_names

    names = [t.strip() for t in transforms.split(",") if t.strip()]
    if names == ["all"]:
        names = list(transform_names())
    if not names:
        fail(ConfigError("--transforms is empty; pass e.g. --transforms rotate,hue or all."))
    try:
        grid = preview_grid(names, per_row=per_row, image_size=image_size, upscale=upscale,
                            seed=seed, assets=assets, backgrounds=backgrounds)
    except ConfigError as e:
        fail(e)
    try:
        path = save_atomic(grid, out)
    except OSError as e:  # a folder, or a path under a file: nothing was written
        fail(ConfigError(f"Cannot write --out {out} ({e.strerror or e}); pass the path of a "
                         f"PNG file in a folder you can write."))
    console.print(f"wrote {path} ({grid.width}×{grid.height})")


@app.command("transforms")
def list_transforms() -> None:
    """List the registered transformations with their default (paper) parameters."""
    from ..transforms import PAPER_TRANSFORMS, get_transform, transform_names

    table = Table(title="Transforms-2D transformations (registry order)")
    for col in ("#", "name", "group", "parameters", "description"):
        table.add_column(col)
    for i, name in enumerate(transform_names(), 1):
        info = get_transform(name)
        params = ", ".join(f"{k}={v}" for k, v in info.defaults.items()) or "-"
        extra = "" if name in PAPER_TRANSFORMS else " (not in the paper)"
        table.add_row(str(i), name, info.group, escape(params), escape(info.summary + extra))
    console.print(table)
    console.print("Pixel-valued parameters are given at 32 px and scale with the image size.")


@app.command("assets")
def list_assets(
    pack: Annotated[str | None, typer.Argument(help="Show this pack's contents.")] = None,
) -> None:
    """List the asset packs, or one pack's objects and background families."""
    from .. import data  # noqa: F401  (registers the background packs rendered by data)
    from ..assets import BACKGROUND_PACKS, list_asset_packs, load_assets

    if pack is None:
        table = Table(title="Asset packs")
        table.add_column("name")
        table.add_column("description")
        for info in list_asset_packs():
            table.add_row(escape(info.usage), escape(info.description))
        console.print(table)
        table = Table(title="Background packs (Transforms2D(background_pack=...), per split)")
        table.add_column("name")
        table.add_column("description")
        for name, b in BACKGROUND_PACKS.items():
            table.add_row(escape(name + (f"[:{b.argument}]" if b.argument else "")),
                          escape(b.description))
        console.print(table)
        console.print("Show one: t2d assets builtin")
        return
    try:
        if pack.partition(":")[0].strip() in BACKGROUND_PACKS:
            _show_background_pack(pack)
            return
        p = load_assets(pack)
    except ConfigError as e:
        fail(e)
    console.print(f"[bold]{p.name}[/]: {p.num_objects} objects, {p.num_backgrounds} backgrounds")
    console.print("objects: " + ", ".join(f"{i}:{n}" for i, n in enumerate(p.object_names)))
    if p.num_backgrounds:
        console.print("background families: " + _family_counts(p))


def _family_counts(p) -> str:
    counts = {f: p.background_families.count(f) for f in p.families}
    return ", ".join(f"{f} ({c})" for f, c in counts.items())


def _show_background_pack(pack: str) -> None:
    """A background pack's images per split (they differ: e.g. CIFAR train vs test)."""
    from ..assets import load_background_pack
    from ..data import SPLITS

    for split in SPLITS:
        p = load_background_pack(pack, split)
        console.print(f"[bold]{pack}[/] ({split}): {p.num_backgrounds} backgrounds; families: "
                      + _family_counts(p))


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Argument(help="Output folder (new or empty).")],
    objects: Annotated[str, typer.Option(help="An int N (first N objects) or a comma list.")]
    = "10",
    transforms: Annotated[str, typer.Option(help="Comma-separated transforms ('' for none).")]
    = "",
    n: Annotated[int, int_option(help="Samples.")] = 1000,
    split: Annotated[str, typer.Option(help="train, val or test.")] = "train",
    seed: Annotated[int, int_option(help="Dataset seed.")] = 0,
    image_size: Annotated[int, int_option(help="Image side in pixels.")] = DEFAULT_IMAGE_SIZE,
    assets: Annotated[str, typer.Option(help="Asset pack (see `t2d assets`).")] = "builtin",
    backgrounds: Annotated[str, typer.Option(help="images, random or black.")] = "images",
    format: Annotated[str, typer.Option(help="folder, webdataset, parquet or hf.")] = "folder",
    shard_size: Annotated[int, int_option(help="Samples per WebDataset shard.")] = 10_000,
) -> None:
    """Write a Transforms-2D dataset to OUT: PNG folders + labels.csv, WebDataset tar shards,
    a Parquet table or a Hugging Face dataset, each with spec.json (deterministic: the same
    arguments give the same bytes)."""
    from ..data import Transforms2D
    from ..data.export import FORMATS, check_out, export
    from ..validation import check_choice, check_int
    from .steps import _objects

    try:
        check_choice("format", format, FORMATS)
        check_int("shard_size", shard_size, 1)
        check_out(out)
        ds = Transforms2D(objects=_objects(objects), transforms=transforms, n=n, split=split,
                          seed=seed, image_size=image_size, assets=assets,
                          backgrounds=backgrounds)
        t0 = time.perf_counter()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"export ({format})", total=len(ds))
            export(ds, out, format, shard_size, lambda: bar.advance(task))
    except ConfigError as e:
        fail(e)
    secs = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    console.print(f"wrote {len(ds)} images to {out} ({format}, {size / 1e6:.1f} MB) in "
                  f"{secs:.1f} s: {len(ds) / secs:.0f} images/s", highlight=False)
