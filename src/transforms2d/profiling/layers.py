"""Which representation of a model is profiled: ``features()``, the input of the last
``nn.Linear``, the output, any named module, or every block (invariance by depth).

A :class:`Representation` maps a batch of Transforms-2D images (``(B, 3, S, S)`` in [-1, 1])
to ``{layer name: (B, D)}``: it renormalises the batch to the model's mean/std, runs the model
once and reads the chosen modules with forward hooks (all layers from one forward pass).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import ConfigError
from .adapters import LoadedModel

FEATURES = "features()"
OUTPUT = "output"


def _tensor(value, where: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    kind = type(value).__name__
    raise ConfigError(f"{where} returns a {kind}, not a tensor; pick a module whose output is "
                      f"one with --layer NAME (an unknown name lists them).")


def _run_order(module: nn.Module, x: torch.Tensor) -> list[str]:
    """Named modules in the order their forward ends (a module called twice counts at its last
    call); the root excluded."""
    order: list[str] = []
    handles = [m.register_forward_hook(lambda *_, n=n: order.append(n))
               for n, m in module.named_modules() if n]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    return list(dict.fromkeys(reversed(order)))[::-1]


def blocks(module: nn.Module) -> list[str]:
    """The model's blocks for a by-depth profile: its direct children, a container
    (``Sequential``, ``ModuleList``, ``ModuleDict``) replaced by its own children."""
    out = []
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential | nn.ModuleList | nn.ModuleDict):
            out += [f"{name}.{n}" for n, _ in child.named_children()]
        else:
            out.append(name)
    return out


class Representation:
    """The representation(s) of one model to profile.

    Args:
        model: a :class:`LoadedModel`.
        layer: ``None`` (default choice, see :meth:`default`), a module name, ``"features()"``
            or ``"output"``.
        layers: ``"all"`` (every block, :func:`blocks`) or an int N (every N-th block, the last
            always included); overrides ``layer``.
        probe: a ``(2, 3, S, S)`` input used once to check the model accepts it and to order
            the layers.
    """

    def __init__(self, model: LoadedModel, probe: torch.Tensor, layer: str | None = None,
                 layers: str | int | None = None) -> None:
        self.model = model
        self.mean = torch.tensor(model.mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(model.std, dtype=torch.float32).view(1, 3, 1, 1)
        self._check_input(probe)
        if layers is not None:
            self.layers = self._blocks(layers, probe)
        elif layer is None:
            self.layers = [self.default()]
        else:
            self.layers = [self._check_layer(layer)]
        self.note = self._describe(probe)

    # -- choosing ------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Hookable module names (``""`` excluded)."""
        return [n for n, _ in self.model.module.named_modules() if n] if self.model.hookable \
            else []

    def default(self) -> str:
        """``features()`` if the model has it, else the input of its last-run ``nn.Linear``
        (``"<name>:in"``), else the output."""
        m = self.model.module
        if self.model.hookable and callable(getattr(m, "features", None)):
            return FEATURES
        if self.model.hookable:
            linear = {n for n, mod in m.named_modules() if isinstance(mod, nn.Linear)}
            ran = [n for n in self._order if n in linear]
            if ran:
                return f"{ran[-1]}:in"
        return OUTPUT

    def _check_layer(self, layer: str) -> str:
        if layer in (FEATURES, OUTPUT):
            if layer == FEATURES and not callable(getattr(self.model.module, "features", None)):
                raise ConfigError(f"Model '{self.model.name}' has no features(); pick a layer "
                                  f"with --layer NAME.")
            return layer
        base = layer[:-3] if layer.endswith(":in") else layer
        names = self.names()
        if base not in names:
            if not self.model.hookable:
                raise ConfigError(f"A {self.model.kind} file exposes no layers to hook; its "
                                  f"output is profiled (export the module you want).")
            listed = ", ".join(names[:60]) + (" ..." if len(names) > 60 else "")
            raise ConfigError(f"Model '{self.model.name}' has no layer '{layer}'; layers: "
                              f"{listed}.")
        return layer

    def _blocks(self, layers: str | int, probe: torch.Tensor) -> list[str]:
        if not self.model.hookable:
            raise ConfigError(f"--layers needs named modules; a {self.model.kind} file has "
                              f"none to hook.")
        ran = set(self._order)
        found = [b for b in blocks(self.model.module) if b in ran]
        if layers != "all":
            step = int(layers)
            if step < 1:
                raise ConfigError(f"--layers must be 'all' or an int >= 1. Got {layers!r}.")
            found = found[::step] if found[-1] in found[::step] else found[::step] + found[-1:]
        return found

    def _describe(self, probe: torch.Tensor) -> str:
        one = self(probe)
        self.dims = [z.shape[1] for z in one.values()]
        return "; ".join(f"{n} ({z.shape[1]} dims)" for n, z in one.items())

    # -- running -------------------------------------------------------------------------
    def _check_input(self, probe: torch.Tensor) -> None:
        side = probe.shape[-1]
        try:
            out = self._forward(probe)
            self._order = _run_order(self.model.module, self._prepare(probe)) \
                if self.model.hookable else []
        except Exception as e:  # noqa: BLE001 - whatever the model raises on a wrong size
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            hint = " (export it with a dynamic batch dimension, dynamic_shapes=...)" \
                if self.model.kind == "export" else ""
            raise ConfigError(f"Model '{self.model.name}' rejects a batch of {side}x{side} "
                              f"inputs ({type(e).__name__}: {first}){hint}; set its input size "
                              f"with --image-size N.") from None
        del out

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        dev = next((t.device for t in self.model.module.parameters()), x.device)
        x = (x.to(dev) * 0.5 + 0.5 - self.mean.to(dev)) / self.std.to(dev)
        return x.contiguous(memory_format=torch.channels_last)

    def _forward(self, x: torch.Tensor):
        with torch.no_grad():
            return self.model.module(self._prepare(x))

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x (B, 3, S, S)`` in [-1, 1] → ``{layer: (B, D) float32}`` (eval, no grad)."""
        m = self.model.module
        x = self._prepare(x)
        got: dict[str, torch.Tensor] = {}
        handles = []
        modules = dict(m.named_modules()) if self.model.hookable else {}
        for name in self.layers:
            if name in (FEATURES, OUTPUT):
                continue
            if name.endswith(":in"):
                handles.append(modules[name[:-3]].register_forward_pre_hook(
                    lambda _m, args, n=name: got.__setitem__(n, _tensor(args[0], n))))
            else:
                handles.append(modules[name].register_forward_hook(
                    lambda _m, _a, out, n=name: got.__setitem__(n, _tensor(out, n))))
        try:
            with torch.no_grad():
                if FEATURES in self.layers:
                    got[FEATURES] = _tensor(m.features(x), "features()")
                if OUTPUT in self.layers or handles or FEATURES not in self.layers:
                    out = m(x)
                    if OUTPUT in self.layers:
                        got[OUTPUT] = _tensor(out, f"Model '{self.model.name}'")
        finally:
            for h in handles:
                h.remove()
        return {n: got[n].flatten(1).float() for n in self.layers}


def representations(models: Sequence[LoadedModel], probe: torch.Tensor, layer=None,
                    layers=None) -> list[Representation]:
    """One :class:`Representation` per model (checked on ``probe`` before any work)."""
    return [Representation(m, probe, layer, layers) for m in models]
