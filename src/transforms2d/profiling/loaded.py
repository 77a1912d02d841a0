"""What every model adapter returns (:class:`LoadedModel`) and the ``--weights`` loader they
share (:mod:`.adapters` for files and entry points, :mod:`.zoos` for timm and torchvision)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError

HALF = (0.5, 0.5, 0.5)  # Transforms-2D's own normalisation, to [-1, 1]


@dataclass
class LoadedModel:
    """A model ready to profile.

    Attributes:
        module: the network, in eval mode.
        name: display name (file stem, entry point or zoo name unless given).
        kind: ``checkpoint``, ``torchscript``, ``export``, ``entry point``, ``timm``,
            ``torchvision`` or ``module``.
        input_size: the side of the square inputs (``None``: unknown, the caller's default).
        mean, std: per-channel normalisation the model expects, in [0, 1] pixel units.
        hookable: whether named modules can be hooked (not for TorchScript / exported files,
            whose representation is their output).
        reference: builds the untrained network of the same architecture, or ``None``.
        reference_note: how the reference is built, for the report.
        reference_key: equal for models whose references are the same network (one
            architecture and settings): it is then measured once.
        note: where the weights, input size and mean/std came from (zoo models), for the
            report; empty when there is nothing to say.
    """

    module: nn.Module
    name: str
    kind: str
    input_size: int | None = None
    mean: tuple[float, ...] = HALF
    std: tuple[float, ...] = HALF
    hookable: bool = True
    reference: Callable[[], nn.Module] | None = field(default=None, repr=False)
    reference_note: str = "none"
    reference_key: tuple | None = None  # models with equal keys share one reference
    note: str = ""


def load_weights(module: nn.Module, weights, owner: str) -> None:
    """Load the state dict in file ``weights`` into ``module`` (strictly: every key must fit);
    ``owner`` names the model in the one-line error."""
    path = Path(weights).expanduser()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise ConfigError(f"Cannot read --weights '{path}' as a state dict "
                          f"({type(e).__name__}).") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a transforms2d checkpoint or a Lightning file
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"--weights '{path}' do not fit {owner} ({first}).") from None
