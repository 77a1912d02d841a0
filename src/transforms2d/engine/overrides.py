"""Size overrides: ``t2d run E --set key=value`` changes one size of a profile without editing
source.

An experiment registers its size table, ``{profile: sizes}`` where each value is a frozen
dataclass; an override must name one of its fields (a field whose metadata says
``override=False``, such as the profile's name, cannot be set) and is parsed to the type of the
profile's value (int, float, bool, str, a comma list for tuples, ``none`` where the profile's
value is ``None``). :func:`apply` returns a new value (``dataclasses.replace``): the table is
never changed. The overrides are recorded in ``experiment.json`` so that ``t2d report``
rebuilds the same grid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError

KINDS = {int: "an int", float: "a number", bool: "true or false", str: "text",
         tuple: "a comma list", list: "a comma list"}


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    """``["epochs=20", "model=resnet_s"]`` → ``{"epochs": "20", "model": "resnet_s"}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value (e.g. --set epochs=20). Got {item!r}.")
        out[key.strip()] = value.strip()
    return out


def _bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    raise ValueError(text)


def _like(key: str, text: Any, current: Any) -> Any:
    """``text`` parsed to the type of ``current`` (values already typed pass through)."""
    if not isinstance(text, str):  # from experiment.json: JSON lists back to tuples
        return tuple(text) if isinstance(current, tuple) and isinstance(text, list) else text
    if current is None:
        return None if text.lower() == "none" else _guess(text)
    if isinstance(current, Mapping) or dataclasses.is_dataclass(current):
        raise ValueError(text)  # a nested table is not one size
    if isinstance(current, bool):
        return _bool(text)
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if isinstance(current, tuple | list):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not current:  # an empty tuple says nothing of its items' type
            return tuple(_guess(t) for t in items)
        kind = type(current[0])
        return tuple(_like(key, t, kind()) if kind is not bool else _bool(t) for t in items)
    return text


def _guess(text: str) -> Any:
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def overridable(sizes: Any) -> dict[str, Any]:
    """``{field: value}`` of a sizes dataclass that ``--set`` may change."""
    return {f.name: getattr(sizes, f.name) for f in dataclasses.fields(sizes)
            if f.metadata.get("override", True)}


def resolve(sizes: Mapping[str, Any] | None, profile: str, sets: Mapping[str, Any],
            owner: str) -> dict[str, Any]:
    """Typed overrides of the sizes value ``sizes[profile]``; one-line errors name the key and
    the valid ones."""
    if not sets:
        return {}
    if sizes is None:
        raise ConfigError(f"Experiment '{owner}' has no size table; --set is not available "
                          f"for it.")
    table = overridable(sizes[profile])
    out = {}
    for key, text in sets.items():
        if key not in table:
            raise ConfigError(f"Unknown size '{key}' for {owner} --profile {profile}; valid: "
                              f"{', '.join(sorted(table))}.")
        try:
            out[key] = _like(key, text, table[key])
        except ValueError:
            kind = KINDS.get(type(table[key]), type(table[key]).__name__)
            raise ConfigError(f"--set {key}={text}: {key} takes {kind} (the profile's value "
                              f"is {table[key]!r}).") from None
    return out


def apply(sizes: Any, overrides: Mapping[str, Any]) -> Any:
    """A new sizes value with the (resolved) ``overrides``; ``sizes`` itself is unchanged."""
    return dataclasses.replace(sizes, **overrides) if overrides else sizes
