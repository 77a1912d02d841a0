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


def comma_items(value: str | Sequence[str] | None) -> list[str]:
    """``"a, b,,c"`` or ``["a", "b", "", "c"]`` → ``["a", "b", "c"]`` (stripped, empty items
    dropped); ``None`` → ``[]``."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [t.strip() for t in items if t.strip()]


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


def seed_list(seeds: Any, name: str = "seeds", owner: str | None = None) -> tuple[int, ...]:
    """The seeds of a grid: an int ``n`` means seeds ``0..n-1``; a sequence of distinct
    non-negative ints is taken as given (e.g. fresh seeds ``(5, 6, 7, 8, 9)``).

    >>> seed_list(3), seed_list([5, 6])
    ((0, 1, 2), (5, 6))
    """
    if isinstance(seeds, Sequence) and not isinstance(seeds, str):
        out = tuple(check_int(f"{name}[{i}]", s, 0, owner=owner) for i, s in enumerate(seeds))
        if not out or len(set(out)) != len(out):
            raise invalid(name, "a non-empty list of distinct seeds", list(seeds), owner=owner)
        return out
    return tuple(range(check_int(name, seeds, 1, owner=owner)))


def seed_record(seeds: Any) -> dict[str, Any]:
    """How an experiment folder records its seeds: ``{"seeds": count}``, plus ``"seed_list"``
    when they are not ``0..count-1`` (so folders of the default seeds read as before)."""
    s = seed_list(seeds)
    return {"seeds": len(s), **({} if s == tuple(range(len(s))) else {"seed_list": list(s)})}


def offset_seeds(n: int, offset: int = 0) -> int | tuple[int, ...]:
    """``n`` seeds starting at ``offset`` (``--seeds N --seed-offset K``): ``n`` itself for
    offset 0 (seeds ``0..n-1``), else the tuple ``K..K+n-1``."""
    check_int("seed-offset", offset, 0, kind="option")
    if offset == 0:
        return n  # checked where it is used, with the experiment's name
    return tuple(range(offset, offset + check_int("seeds", n, 1, kind="option")))
