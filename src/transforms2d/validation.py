"""Validation at the package boundary, with one message template (scikit-learn's):

    The 'n' parameter of e1 must be an int in [1, inf). Got 0 instead.

Every check returns the value (normalised where it says so) or raises :class:`ConfigError`.
``kind`` names what is checked ("parameter" for arguments, "field" for spec and config-file
keys, "option" for command-line flags); ``owner`` optionally says whose it is.

>>> check_int("n", 5, low=1)
5
>>> check_int("n", 0, low=1)
Traceback (most recent call last):
...
transforms2d.errors.ConfigError: The 'n' parameter must be an int in [1, inf). Got 0 instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .errors import ConfigError


def invalid(name: str, constraint: str, value: Any, kind: str = "parameter",
            owner: str | None = None) -> ConfigError:
    """The error for ``value`` of ``name`` breaking ``constraint`` (the one template)."""
    whose = f" of {owner}" if owner else ""
    return ConfigError(f"The '{name}' {kind}{whose} must be {constraint}. Got {value!r} instead.")


def _interval(low: float | None, high: float | None, low_open: bool = False,
              high_open: bool = False) -> str:
    lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
    hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
    return f"{lo}, {hi}"


def check_int(name: str, value: Any, low: int | None = 0, high: int | None = None, *,
              kind: str = "parameter", owner: str | None = None) -> int:
    """An ``int`` (not a bool) in ``[low, high]`` (``None``: unbounded)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and \
        (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise invalid(name, f"an int in {_interval(low, high)}", value, kind, owner)
    return value


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None,
                 *, low_open: bool = False, high_open: bool = False, kind: str = "parameter",
                 owner: str | None = None) -> float:
    """A finite real number (not a bool) in the interval; returned as ``float``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        try:
            v = float(value)
        except OverflowError:  # an int beyond the largest float
            v = math.inf
        ok = math.isfinite(v) and (low is None or (v > low if low_open else v >= low)) and \
            (high is None or (v < high if high_open else v <= high))
    if not ok:
        text = f"a number in {_interval(low, high, low_open, high_open)}"
        raise invalid(name, text, value, kind, owner)
    return v


def check_fraction(name: str, value: Any, *, kind: str = "parameter",
                   owner: str | None = None) -> float:
    """A probability: a number in [0, 1]."""
    return check_number(name, value, 0.0, 1.0, kind=kind, owner=owner)


def check_choice(name: str, value: Any, choices: Sequence[Any], *, kind: str = "parameter",
                 owner: str | None = None) -> Any:
    """One of ``choices``."""
    if value not in choices:
        raise invalid(name, f"one of {', '.join(map(str, choices))}", value, kind, owner)
    return value


def check_device(name: str, value: Any, *, kind: str = "parameter",
                 owner: str | None = None) -> Any:
    """A device to compute on here: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (a GPU that exists) or
    such a ``torch.device``; returned as a ``torch.device``."""
    import torch  # deferred: validating plain values needs no tensors

    try:
        dev = value if isinstance(value, torch.device) else \
            torch.device(value) if isinstance(value, str) else None
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise invalid(name, "cpu, cuda or cuda:N", value, kind, owner)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"The '{name}' {kind} asks for {value!r}, but no CUDA GPU is "
                          f"available here; use 'cpu'.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ConfigError(f"The '{name}' {kind} asks for {value!r}, but there are "
                          f"{torch.cuda.device_count()} GPU(s).")
    return dev
