"""Model checkpoints, written atomically, and their validated loading."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError
from ..io import atomic_write
from ..models import create_model


def save_checkpoint(path: str | os.PathLike, model: nn.Module, model_name: str,
                    model_kwargs: dict | None = None, **meta: Any) -> Path:
    """Save weights with what is needed to rebuild the model (name, classes, kwargs)."""
    state = {
        "model": model_name,
        "num_classes": int(model.num_classes),
        "model_kwargs": dict(model_kwargs or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": meta,
    }
    # Serialised in memory, written by Python: a full disk or a size limit is then an OSError
    # naming the file (torch's own writer reports it as "enforce fail ... unexpected pos").
    buf = io.BytesIO()
    torch.save(state, buf)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getbuffer()))


def load_checkpoint(path: str | os.PathLike, model: str | None = None,
                    num_classes: int | None = None) -> tuple[nn.Module, dict]:
    """Rebuild a model from a checkpoint; returns ``(model, meta)``.

    ``model`` / ``num_classes``, when given, must match the checkpoint (one-line error if not).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Checkpoint '{path}' does not exist.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same user error
        raise ConfigError(f"Checkpoint '{path}' is not a readable transforms2d checkpoint "
                          f"({type(e).__name__}).") from None
    if not isinstance(state, dict) or "model" not in state or "state_dict" not in state:
        raise ConfigError(f"'{path}' is not a transforms2d checkpoint (no model name).")
    if model is not None and model != state["model"]:
        raise ConfigError(f"Checkpoint '{path}' holds a '{state['model']}', not a '{model}'; "
                          f"pass --model {state['model']} or another checkpoint.")
    if num_classes is not None and num_classes != state["num_classes"]:
        raise ConfigError(f"Checkpoint '{path}' has {state['num_classes']} classes but the task "
                          f"has {num_classes}; use a matching task or probe with a new head.")
    net = create_model(state["model"], num_classes=state["num_classes"], **state["model_kwargs"])
    try:
        net.load_state_dict(state["state_dict"])
    except RuntimeError:
        raise ConfigError(f"Checkpoint '{path}' does not fit architecture '{state['model']}' "
                          f"(weights of another model?).") from None
    net.model_name = state["model"]
    net.model_kwargs = state["model_kwargs"]
    return net, state.get("meta", {})
