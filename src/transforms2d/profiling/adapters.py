"""Any model in: a transforms2d checkpoint, a TorchScript or ``torch.export`` file, a Python
entry point ``package.module:factory``, ``timm:<name>`` or ``torchvision:<name>``
(:mod:`.zoos`), or an ``nn.Module`` in memory.

Every adapter returns a :class:`LoadedModel`: the module in eval mode, what the inputs must be
(side, per-channel mean/std in [0, 1] units) and how to build the untrained reference network
of the same architecture, when there is one.
"""

from __future__ import annotations

import copy
import importlib
import os
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from ..models import create_model
from ..train import load_checkpoint
from .loaded import HALF, LoadedModel, load_weights
from .zoos import from_timm, from_torchvision

ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
ZOOS = ("timm", "torchvision")


def load_model(model: str | os.PathLike | nn.Module, weights: str | os.PathLike | None = None,
               name: str | None = None, pretrained: bool = False,
               image_size: int | None = None) -> LoadedModel:
    """Load one model; see the module docstring for what ``model`` may be.

    Args:
        model: a path, ``package.module:factory``, ``timm:<name>``, ``torchvision:<name>`` or
            an ``nn.Module``.
        weights: a state-dict file loaded into an entry point's or a zoo's model.
        name: display name (default: derived from ``model``).
        pretrained: a zoo model gets the zoo's own weights (a download); default: random
            initialisation unless ``weights``.
        image_size: the input side asked for: a timm model with a fixed input size (a ViT) is
            built at it.
    """
    if isinstance(model, nn.Module):
        out = _from_module(model, "module", name or type(model).__name__)
    elif not isinstance(model, str | os.PathLike):
        raise ConfigError(f"A model must be a path, 'package.module:factory', 'timm:<name>', "
                          f"'torchvision:<name>' or an nn.Module. Got {type(model).__name__}.")
    else:
        out = _from_text(str(model), weights, pretrained, image_size)
        out.name = name or out.name
    if weights is not None and out.kind not in ("entry point", *ZOOS):
        raise ConfigError(f"--weights is for entry points, timm and torchvision models; "
                          f"'{out.name}' is a {out.kind} and holds its own weights.")
    if pretrained and out.kind not in ZOOS:
        raise ConfigError(f"--pretrained is for timm: and torchvision: models; '{out.name}' is "
                          f"a {out.kind}.")
    if out.kind != "export":  # an exported program is traced in one mode and has no eval()
        out.module.eval()
    return out


def _from_text(text: str, weights, pretrained: bool, image_size: int | None) -> LoadedModel:
    if text.startswith("timm:"):
        return from_timm(text[5:], weights, pretrained, image_size)
    if text.startswith("torchvision:"):  # before ENTRY_POINT, which the name also matches
        return from_torchvision(text[12:], weights, pretrained)
    if Path(text).expanduser().exists():
        return _from_file(Path(text).expanduser(), weights)
    if ENTRY_POINT.match(text):
        return _from_entry_point(text, weights)
    raise ConfigError(f"Model '{text}' is neither a file nor 'package.module:factory' nor "
                      f"'timm:<name>' nor 'torchvision:<name>'.")


def _from_module(module: nn.Module, kind: str, name: str) -> LoadedModel:
    """An ``nn.Module``: a transforms2d model knows its input and its architecture; any other
    gets a re-initialised copy as its reference."""
    if hasattr(module, "model_name") and hasattr(module, "num_classes"):
        arch, kwargs, k = module.model_name, dict(getattr(module, "model_kwargs", {})), \
            module.num_classes
        size = getattr(module, "image_size", DEFAULT_IMAGE_SIZE)
        return LoadedModel(module, name, kind, size, HALF, HALF,
                           reference=lambda: create_model(arch, num_classes=k, **kwargs),
                           reference_note=f"create_model('{arch}'), the architecture's own "
                                          f"initialisation",
                           reference_key=("create_model", arch, k, repr(sorted(kwargs.items()))))
    return LoadedModel(module, name, kind, reference=lambda: reinitialised(module),
                       reference_note="a copy with every submodule's reset_parameters() "
                                      "(PyTorch's default initialisation)")


def reinitialised(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with every submodule's parameters (and batch-norm statistics)
    reset by its own ``reset_parameters()``."""
    out = copy.deepcopy(module)
    for m in out.modules():
        reset = getattr(m, "reset_parameters", None)
        if callable(reset):
            reset()
    return out


def zip_kind(path: Path) -> str:
    """``torchscript``, ``export``, ``pickle`` (a ``torch.save`` file) or ``unknown``."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return "unknown"
    if any("/code/" in n for n in names):
        return "torchscript"
    if any(n.endswith("models/model.json") or n.endswith("/archive_format") for n in names):
        return "export"
    return "pickle" if any(n.endswith("data.pkl") for n in names) else "unknown"


def _from_file(path: Path, weights) -> LoadedModel:
    if not path.is_file():
        raise ConfigError(f"Model '{path}' is a folder; pass a checkpoint (pretrain.pt, "
                          f"last.pt), a TorchScript or a torch.export file.")
    kind = zip_kind(path)
    try:
        if kind == "torchscript":
            module = torch.jit.load(str(path), map_location="cpu")
            return LoadedModel(module, path.stem, "torchscript", hookable=False,
                               reference_note="none (a TorchScript file has no architecture "
                                              "to re-initialise)")
        if kind == "export":
            module = torch.export.load(str(path)).module()
            return LoadedModel(module, path.stem, "export", hookable=False,
                               reference_note="none (an exported program has no "
                                              "architecture to re-initialise)")
    except Exception as e:  # noqa: BLE001 - any unreadable archive is the same user error
        raise ConfigError(f"Cannot read {kind} file '{path}' ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}).") from None
    if kind == "pickle":
        net, meta = load_checkpoint(path)  # one-line ConfigError if not a t2d checkpoint
        out = _from_module(net, "checkpoint", _checkpoint_name(path))
        out.input_size = meta.get("image_size") or out.input_size  # the size it trained at
        return out
    raise ConfigError(f"'{path}' is not a model file (not a transforms2d checkpoint, TorchScript "
                      f"or torch.export archive).")


def _checkpoint_name(path: Path) -> str:
    """``runs/<hash>/pretrain.pt`` → ``<hash>``; ``out/last.pt`` → ``out/last``."""
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def _from_entry_point(text: str, weights) -> LoadedModel:
    mod_name, attr = text.split(":")
    try:
        factory = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"Cannot import entry point '{text}' ({type(e).__name__}: {e}); "
                          f"make '{mod_name}' importable (PYTHONPATH) and define '{attr}'.") \
            from None
    if not callable(factory):
        raise ConfigError(f"Entry point '{text}' is not callable; point it at a function or "
                          f"class that returns an nn.Module.")
    try:
        module = factory()
    except Exception as e:  # noqa: BLE001 - the user's code: report it in one line
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise ConfigError(f"Entry point '{text}' raised {type(e).__name__} ({first}); it must "
                          f"build the model with no arguments.") from None
    if not isinstance(module, nn.Module):
        raise ConfigError(f"Entry point '{text}' returned a {type(module).__name__}, not an "
                          f"nn.Module.")
    if weights is not None:
        load_weights(module, weights, f"the model of '{text}'")
    out = _from_module(module, "entry point", text)
    out.kind = "entry point"
    return out
