"""Models from the two zoos researchers hold: ``timm:<name>`` and ``torchvision:<name>``.

Weights are explicit, since no hub may be reachable: a model is random-initialised (torch seed
0, so that two runs agree) unless ``weights`` names a local state-dict file or ``pretrained``
asks the zoo for its own weights (a download, or the zoo's cache). A random-initialised model
is its own untrained reference, so none other is built. The input size and mean/std come from
timm's ``pretrained_cfg``, or from the transforms of torchvision's default weights for that
architecture (whether or not they are loaded), else ImageNet's defaults; ``LoadedModel.note``
says which.

Both zoos are imported here only, inside the functions: the core package needs neither.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Callable

import torch
from torch import nn

from ..errors import ConfigError
from .loaded import LoadedModel, load_weights

IMAGENET = (224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # side, mean, std
SEED = 0  # random-initialised zoo models are built under this torch seed


def _missing(zoo: str, extra: str, e: Exception) -> ConfigError:
    """The one-line error for a zoo that does not import, naming the extra that installs it."""
    why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return ConfigError(f"{zoo} is not installed or does not import ({type(e).__name__}: {why}); "
                       f"install the extra, which pins the torch/torchvision pair: pip install "
                       f"'transforms2d[{extra}]' (make install does).")


def _timm():
    try:
        import timm
    except Exception as e:  # noqa: BLE001 - torchvision beside the wrong torch: RuntimeError
        raise _missing("timm", "timm", e) from None
    return timm


def _torchvision():
    try:
        import torchvision.models
    except Exception as e:  # noqa: BLE001 - beside the wrong torch: RuntimeError
        raise _missing("torchvision", "torchvision", e) from None
    return torchvision


def _unknown(zoo: str, name: str, names: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, names, n=6, cutoff=0.6)
    hint = f"close names: {', '.join(close)}" if close else f"{len(names)} models listed"
    return ConfigError(f"{zoo} has no model '{name}' ({hint}).")


def _build(make: Callable[[bool], nn.Module], zoo: str, name: str, weights,
           pretrained: bool) -> tuple[nn.Module, str]:
    """``(module, weights note)``: ``make(pretrained)`` under the rules of the module
    docstring, with ``weights`` loaded into it."""
    if pretrained and weights is not None:
        raise ConfigError("--pretrained and --weights both give the weights; pass one.")
    if pretrained:
        try:
            return make(True), f"{zoo}'s pretrained weights"
        except Exception as e:  # noqa: BLE001 - no network, a proxy, a missing cache...
            why = textwrap.shorten((str(e).strip().splitlines() or [""])[0], 160)
            raise ConfigError(
                f"Cannot fetch {zoo}'s pretrained weights of '{name}' ({type(e).__name__}: "
                f"{why}). With no hub reachable, save them where one is (torch.save(model."
                f"state_dict(), FILE)) and pass --weights FILE, or leave out --pretrained for "
                f"random initialisation.") from None
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            module = make(False)
    except Exception as e:  # noqa: BLE001 - e.g. a keyword the architecture does not take
        why = textwrap.shorten((str(e).strip().splitlines() or [""])[0], 160)
        raise ConfigError(f"{zoo} cannot build '{name}' ({type(e).__name__}: {why}).") \
            from None
    if weights is None:
        return module, f"random init (torch seed {SEED}; no --weights or --pretrained)"
    load_weights(module, weights, f"{zoo} '{name}'")
    return module, f"state dict {weights}"


def _loaded(module: nn.Module, label: str, kind: str, size_mean_std, note: str,
            reference: Callable[[], nn.Module], reference_note: str, key: tuple,
            random_init: bool) -> LoadedModel:
    size, mean, std = size_mean_std
    if random_init:  # the model is itself untrained: a second random network adds nothing
        reference, reference_note = None, "none (the model is random-initialised itself)"
    return LoadedModel(module, label, kind, size, tuple(mean), tuple(std),
                       reference=reference, reference_note=reference_note,
                       reference_key=None if reference is None else key, note=note)


def from_timm(name: str, weights=None, pretrained: bool = False,
              image_size: int | None = None) -> LoadedModel:
    """``timm:<name>``. A model whose cfg fixes its input size (a ViT) is built at
    ``image_size`` when one is given (timm's ``img_size``)."""
    timm = _timm()
    if not timm.is_model(name):
        raise _unknown("timm", name, timm.list_models())
    cfg = timm.get_pretrained_cfg(name) or {}
    cfg = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)
    kwargs = {}
    if image_size and cfg.get("fixed_input_size") and cfg["input_size"][-1] != image_size:
        kwargs["img_size"] = image_size

    def make(pre: bool) -> nn.Module:
        return timm.create_model(name, pretrained=pre, **kwargs)

    module, how = _build(make, "timm", name, weights, pretrained)
    cfg = getattr(module, "pretrained_cfg", None) or cfg
    size = kwargs.get("img_size") or cfg.get("input_size", (3, None, None))[-1]
    note = (f"weights: {how}; input size, mean/std from timm's pretrained_cfg "
            f"({cfg.get('tag') or 'default'})")
    args = "".join(f", {k}={v}" for k, v in kwargs.items())
    return _loaded(module, f"timm:{name}", "timm", (size, cfg.get("mean", IMAGENET[1]),
                   cfg.get("std", IMAGENET[2])), note, lambda: make(False),
                   f"timm.create_model('{name}', pretrained=False{args})",
                   ("timm", name, repr(kwargs)), weights is None and not pretrained)


def torchvision_input(models, name: str) -> tuple[tuple, str]:
    """``((side, mean, std), where from)``: the transforms of the architecture's default
    weights in torchvision (their meta, nothing downloaded), else ImageNet's defaults."""
    try:
        default = models.get_model_weights(name).DEFAULT
        t = default.transforms()
        side = t.crop_size[0] if isinstance(t.crop_size, list | tuple) else t.crop_size
        return (int(side), tuple(t.mean), tuple(t.std)), f"the transforms of {default}"
    except Exception:  # noqa: BLE001 - no weights enum, or transforms without a crop/mean
        return IMAGENET, "ImageNet defaults (torchvision lists no classification weights " \
                         "for it)"


def from_torchvision(name: str, weights=None, pretrained: bool = False) -> LoadedModel:
    """``torchvision:<name>``: ``torchvision.models.get_model(name, weights=None)``, or its
    ``DEFAULT`` weights with ``pretrained``."""
    tv = _torchvision()
    names = tv.models.list_models()
    if name not in names:
        raise _unknown("torchvision", name, names)

    def make(pre: bool) -> nn.Module:
        return tv.models.get_model(name, weights="DEFAULT" if pre else None)

    module, how = _build(make, "torchvision", name, weights, pretrained)
    size_mean_std, where = torchvision_input(tv.models, name)
    return _loaded(module, f"torchvision:{name}", "torchvision", size_mean_std,
                   f"weights: {how}; input size, mean/std from {where}", lambda: make(False),
                   f"torchvision.models.get_model('{name}', weights=None)",
                   ("torchvision", name), weights is None and not pretrained)
