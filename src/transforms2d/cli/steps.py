"""``t2d models``, ``t2d train``, ``t2d probe`` and ``t2d invariance``: one run's steps from the
command line."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from ..validation import check_int
from .app import app, console, fail

Objects = Annotated[str, typer.Option(help="An int N (first N objects) or a comma list.")]
Transforms = Annotated[str, typer.Option(help="Comma-separated transforms ('' for none).")]
Out = Annotated[Path, typer.Option(help="Output folder.")]
Device = Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")]


def _objects(text: str) -> int | list[int]:
    try:
        return [int(t) for t in text.split(",")] if "," in text else int(text)
    except ValueError:
        raise ConfigError(
            f"--objects must be an int or a comma list of ints. Got {text!r}.") from None


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot be a folder (a file, or a path under a file) before any
    work is done."""
    p = out
    while not p.exists() and p != p.parent:
        p = p.parent
    if not p.is_dir():
        raise ConfigError(f"--out {out} cannot be a folder: {p} is a file; pass another "
                          f"--out.")


def _datasets(objects, transforms, sizes, seed, image_size, assets, backgrounds):
    """Build the train / val / test datasets of one task (an empty size skips that split)."""
    from ..data import Transforms2D

    out = {}
    for split, n in zip(("train", "val", "test"), sizes):
        if n:
            out[split] = Transforms2D(objects=_objects(objects), transforms=transforms, n=n,
                                      split=split, seed=seed, image_size=image_size,
                                      assets=assets, backgrounds=backgrounds)
    return out


def _spec(ds) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(ds.spec), default=list))


def _table(title: str, rows: dict[str, float | None]) -> None:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in rows.items():
        table.add_row(k, "-" if v is None else f"{v:.4f}")
    console.print(table)


@app.command("models")
def list_models_cmd(
    pattern: Annotated[str | None, typer.Argument(help="Only names matching this "
                                                  "(fnmatch, e.g. 'resnet*').")] = None,
) -> None:
    """List the registered model architectures (the paper's and the small CPU ones)."""
    from ..models import list_models, model_info

    table = Table(title="Models (registry)")
    for col in ("name", "family", "paper", "description"):
        table.add_column(col)
    for name in list_models(pattern):
        info = model_info(name)
        table.add_row(name, info.family, "yes" if info.paper else "", escape(info.description))
    console.print(table)


@app.command("train")
def train_cmd(
    model: Annotated[str, typer.Option(help="Architecture (see `t2d models`).")] = "convnet_s",
    objects: Objects = "10", transforms: Transforms = "",
    n_train: int = 5000, n_val: int = 1000, n_test: int = 1000,
    epochs: int = 10, batch_size: int = 256, lr: float = 1e-3,
    weight_decay: Annotated[float | None, typer.Option(
        help="Adam weight decay (default: the model's recipe: 0, ViT 5e-5).")] = None,
    seed: int = 0, image_size: int = DEFAULT_IMAGE_SIZE, assets: str = "builtin",
    backgrounds: str = "images",
    device: Device = "cpu", out: Out = Path("runs/train"),
) -> None:
    """Pretrain a model (the paper's recipe for its family; ViT: warm-up + cosine, weight decay
    5e-5 unless --weight-decay is given); writes last.pt, best.pt and result.json to --out.
    On a GPU, training uses channels-last and bf16 autocast."""
    import torch

    from ..io import write_json
    from ..models import create_model
    from ..train import EvalSet, TrainingDiverged, recipe_for, train

    try:
        _check_out(out)
        check_int("n_train", n_train, 1, kind="option")
        data = _datasets(objects, transforms, (n_train, n_val, n_test), seed, image_size,
                         assets, backgrounds)
        extra = {} if weight_decay is None else {"weight_decay": weight_decay}
        cfg = recipe_for(model, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                         device=device, **extra)
        torch.manual_seed(seed)
        net = create_model(model, num_classes=data["train"].num_classes, image_size=image_size)
        evals = {k: EvalSet.render(v) for k, v in data.items() if k != "train"}
        t0 = time.perf_counter()
        res = train(net, data["train"], cfg, evals.get("val"), evals.get("test"), out_dir=out,
                    model_name=model)
    except (ConfigError, TrainingDiverged) as e:
        fail(e)
    write_json(out / "result.json", {
        "model": model, "config": cfg.to_dict(), "data": _spec(data["train"]),
        "history": res.history, "final": res.final, "best_epoch": res.best_epoch,
        "seconds": time.perf_counter() - t0})
    _table(f"{model}: final epoch", {k: res.final.get(k) for k in
                                     ("loss", "train_acc", "val_acc", "test_acc")})
    console.print(f"wrote {out}/last.pt, best.pt, result.json")


@app.command("probe")
def probe_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint written by t2d train.")],
    objects: Objects = "10", transforms: Transforms = "",
    n_train: int = 2000, n_val: int = 1000, n_test: int = 1000,
    solver: Annotated[str, typer.Option(
        help="lbfgs (L2-regularised softmax regression solved to optimality) or adam (the "
             "paper's epochs; --epochs applies to it only).")] = "lbfgs",
    epochs: int = 200, views: int = 2,
    reference: Annotated[bool, typer.Option(
        help="The paper's procedure: fresh views every Adam epoch (implies --solver adam).")
    ] = False,
    finetune_epochs: int = 0,
    seed: int = 0, image_size: int = DEFAULT_IMAGE_SIZE, assets: str = "builtin",
    backgrounds: str = "images",
    device: Device = "cpu", out: Out = Path("runs/probe"),
) -> None:
    """Linear-probe a frozen checkpoint on a target task (optionally fine-tune after)."""
    from ..io import write_json
    from ..train import (
        EvalSet,
        ProbeConfig,
        TrainConfig,
        TrainingDiverged,
        finetune,
        linear_probe,
        load_checkpoint,
        reference_probe,
    )

    try:
        _check_out(out)
        check_int("n_train", n_train, 1, kind="option")
        net, _ = load_checkpoint(checkpoint)
        data = _datasets(objects, transforms, (n_train, n_val, n_test), seed, image_size,
                         assets, backgrounds)
        cfg = ProbeConfig(solver="adam" if reference else solver, epochs=epochs, views=views,
                          seed=seed, device=device)
        fit = reference_probe if reference else linear_probe
        res = fit(net, data["train"], data.get("val"), data.get("test"), cfg)
        result = {"checkpoint": str(checkpoint), "probe": res.to_dict(),
                  "method": "reference" if reference else "cached",
                  "config": cfg.to_dict(), "data": _spec(data["train"])}
        rows = {"probe train_acc": res.train_acc, "probe val_acc": res.val_acc,
                "probe test_acc": res.test_acc}
        if finetune_epochs:
            evals = {k: EvalSet.render(v) for k, v in data.items() if k != "train"}
            tcfg = TrainConfig(epochs=finetune_epochs, batch_size=256, seed=seed, device=device,
                               schedule="linear_decay")
            _, ft = finetune(net, res.head, data["train"], tcfg, evals.get("val"),
                             evals.get("test"))
            result["finetune"] = {"config": tcfg.to_dict(), "history": ft.history,
                                  "final": ft.final}
            rows |= {f"finetune {k}": ft.final.get(k) for k in ("val_acc", "test_acc")}
    except (ConfigError, TrainingDiverged) as e:
        fail(e)
    write_json(out / "probe.json", result)
    _table(f"probe of {checkpoint}", rows)
    console.print(f"wrote {out}/probe.json")


@app.command("invariance")
def invariance_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint written by t2d train.")],
    objects: Objects = "10", transforms: Transforms = "rotate", n: int = 2000,
    metrics: Annotated[str, typer.Option(help="Comma list of l2, cos, dot, cka.")] =
        "l2,cos,dot,cka",
    seed: int = 0, image_size: int = DEFAULT_IMAGE_SIZE, assets: str = "builtin",
    backgrounds: str = "images",
    device: Device = "cpu", out: Out = Path("runs/invariance"),
) -> None:
    """Measure a checkpoint's invariance to --transforms on test-split twins (normalised l2,
    cos, dot, CKA: docs/protocol.md §5)."""
    from ..io import write_json
    from ..metrics import invariance
    from ..train import load_checkpoint, resolve_device

    try:
        _check_out(out)
        check_int("n", n, 1, kind="option")
        net, _ = load_checkpoint(checkpoint)
        net.to(resolve_device(device))
        ds = _datasets(objects, transforms, (0, 0, n), seed, image_size, assets,
                       backgrounds)["test"]
        names = tuple(m.strip() for m in metrics.split(",") if m.strip())
        values = invariance(net, ds, ds.with_transform_seed(1), metrics=names, seed=seed)
    except ConfigError as e:
        fail(e)
    write_json(out / "invariance.json", {"checkpoint": str(checkpoint), "metrics": values,
                                         "data": _spec(ds)})
    _table(f"invariance of {checkpoint} to [{transforms}]", values)
    console.print(f"wrote {out}/invariance.json")
