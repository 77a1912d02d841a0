"""``t2d profile``: the invariance profile of any model (checkpoints, TorchScript / export
files, ``package.module:factory``, ``timm:<name>``, ``torchvision:<name>``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import ConfigError
from .app import app, console, fail, int_option
from .steps import _check_out


def _floats(name: str, text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--{name} must be 3 comma-separated numbers, e.g. "
                          f"0.485,0.456,0.406. Got {text!r}.") from None
    if len(vals) != 3:
        raise ConfigError(f"--{name} needs 3 values (one per channel). Got {text!r}.")
    return vals


def _layers(text: str | None) -> str | int | None:
    if text is None or text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--layers must be 'all' or an int N (every N-th block). Got "
                          f"{text!r}.") from None


def _profile_with_progress(models: list[str], kwargs: dict):
    """:func:`transforms2d.profile` of ``models`` with ``kwargs``, under a progress bar
    (transient: it is gone when the profile is done)."""
    from ..profiling import profile

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("loading models", total=None)

        def progress(label: str, total: int) -> None:
            if total >= 0:
                bar.update(task, total=total, description="profile")
            else:
                bar.update(task, advance=1, description=label)

        return profile(models, progress=progress, **kwargs)


def _print_models(models: list[dict]) -> None:
    """One line per profiled model (:attr:`ProfileResult.models`): kind, input size,
    representation and any note."""
    for m in models:
        note = f"; {m['note']}" if m.get("note") else ""
        console.print(f"{m['name']}: {m['kind']}, {m['input_size']} px, representation "
                      f"{m['representation']}{note}", highlight=False)


@app.command("profile")
def profile_cmd(
    models: Annotated[list[str], typer.Argument(
        help="Checkpoints (pretrain.pt, last.pt), TorchScript / torch.export files, "
             "package.module:factory, timm:<name> or torchvision:<name>.")],
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("profile"),
    transforms: Annotated[str, typer.Option(help="Comma list, or 'all' (the 18).")] = "all",
    domains: Annotated[str, typer.Option(
        "--domains", "--domain", help="Comma list of objects, random, folder:PATH.")] =
        "objects,random",
    pairs: Annotated[int, int_option(help="Image pairs per domain and transform.")] = 1000,
    levels: Annotated[int, int_option(
        help="Strength sweep: N levels per transform with a magnitude (0: none).")] = 0,
    metrics: Annotated[str, typer.Option(help="Comma list of l2, cos, dot, cka.")] =
        "l2,cos,cka",
    layer: Annotated[str | None, typer.Option(
        help="Module name ('head:in' = its input), 'features()' or 'output'.")] = None,
    layers: Annotated[str | None, typer.Option(
        help="'all' or N: every (N-th) block, invariance by depth.")] = None,
    image_size: Annotated[int | None, int_option(
        help="Input side (default: the model's, else 32; a timm ViT is built at it).")] = None,
    mean: Annotated[str | None, typer.Option(help="Input mean per channel, e.g. "
                                             "0.485,0.456,0.406 (default: the model's).")] = None,
    std: Annotated[str | None, typer.Option(help="Input std per channel.")] = None,
    weights: Annotated[Path | None, typer.Option(
        help="State dict file for an entry point's, timm: or torchvision: model.")] = None,
    pretrained: Annotated[bool, typer.Option(
        help="timm: / torchvision: models: the zoo's own weights (a download; default: "
             "random init unless --weights).")] = False,
    reference: Annotated[bool, typer.Option(
        help="Also profile each model's untrained twin.")] = True,
    seed: Annotated[int, int_option(help="Seed of images, pairs and bootstrap.")] = 0,
    batch_size: Annotated[int, int_option(help="Pairs per batch.")] = 250,
    resamples: Annotated[int, int_option(help="Bootstrap resamples.")] = 1000,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
) -> None:
    """What is a model invariant to? The invariance of its representation to each of the 18
    transformations (or a subset, with strength sweeps), on Transforms-2D objects, random
    data or your own images, beside the same architecture untrained; writes profile.json,
    profile.parquet, summary.md and figures/ to --out."""
    try:
        _check_out(out)
        kwargs = dict(transforms=transforms, domains=domains, pairs=pairs, levels=levels or None,
                      metrics=[m.strip() for m in metrics.split(",") if m.strip()],
                      layer=layer, layers=_layers(layers), image_size=image_size,
                      weights=weights, pretrained=pretrained, mean=_floats("mean", mean),
                      std=_floats("std", std),
                      reference=reference, seed=seed, batch_size=batch_size,
                      resamples=resamples, device=device)
        res = _profile_with_progress(models, kwargs)
    except ConfigError as e:
        fail(e)
    _print_models(res.models)
    res.save(out)
    console.print((out / "summary.md").read_text(), highlight=False, markup=False)
    console.print(f"wrote {out}/profile.json, profile.parquet, summary.md, figures/",
                  highlight=False)
