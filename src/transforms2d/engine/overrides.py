"""Size overrides: ``t2d run E --set key=value`` changes one size of a profile without editing
source.

An experiment registers its size table, ``{profile: sizes}`` where each value is a frozen
dataclass. An override names one of its fields (a field whose metadata says
``override=False``, such as the profile's name, cannot be set; a field that is itself a
dataclass is set one size at a time, ``finetune.epochs=20``) and is parsed by the field's
*declared* type (its annotation, :func:`typing.get_type_hints`), never by the profile's
current value: ``int``, ``float``, ``str``, ``bool``, ``X | None`` (``none``),
``tuple[X, ...]`` (a comma list), fixed tuples inside a list (colon-joined:
``kind_epochs=rand:200,img:100``) and ``dict[K, V]`` (``key:value`` items). Each value is
then checked against the range its field declares in metadata (``min`` / ``max`` inclusive,
``above`` exclusive, for every number in the value; ``choices``, a collection or a function
returning one, for every text), so that a bad size is a one-line :class:`ConfigError` naming
the field and its type before any run folder is written. :func:`apply` returns a new value
(``dataclasses.replace``): the table is never changed. The overrides are recorded in
``experiment.json`` (typed, JSON lists for tuples), so that ``t2d report`` rebuilds the same
grid; those values go through the same checks.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError

SEPARATORS = (",", ":")  # between a list's items, then between the parts of one item
BOOLS = {"true": True, "yes": True, "on": True, "1": True,
         "false": False, "no": False, "off": False, "0": False}
WORDS = {int: ("an int", "ints", "int"), float: ("a number", "numbers", "number"),
         str: ("text", "names", "text"), bool: ("true or false", "true/false values", "bool")}


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    """``["epochs=20", "model=resnet_s"]`` → ``{"epochs": "20", "model": "resnet_s"}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value (e.g. --set epochs=20). Got {item!r}.")
        out[key.strip()] = value.strip()
    return out


# -- declared types ---------------------------------------------------------------------------
def split_optional(hint: Any) -> tuple[bool, Any]:
    """``(True, X)`` for ``X | None``, else ``(False, hint)``."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1 and len(typing.get_args(hint)) == 2:
            return True, rest[0]
    return False, hint


def item_types(hint: Any) -> list[Any] | None:
    """The part types of one item of a fixed tuple or a dict (key, value); ``None`` for
    anything else."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict or (origin is tuple and args and args[-1] is not Ellipsis):
        return list(args)
    return None


def is_list(hint: Any) -> bool:
    args = typing.get_args(hint)
    return typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis


def is_group(hint: Any) -> bool:
    """Whether a field is a nested sizes dataclass (set one of its fields instead)."""
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


# -- text -> value ----------------------------------------------------------------------------
def parse(text: str, hint: Any, depth: int = 0) -> Any:
    """``text`` as a value of the declared type ``hint`` (``ValueError`` if it is not one)."""
    optional, hint = split_optional(hint)
    if optional and text.strip().lower() == "none":
        return None
    text = text.strip()
    if is_list(hint) or item_types(hint) is not None:
        return _parse_many(text, hint, depth)
    if hint is bool:
        return BOOLS[text.lower()] if text.lower() in BOOLS else _bad(text)
    if hint is int:
        return int(text)  # "2.5", "2e3" and words are refused here
    if hint is float:
        return _finite(float(text))
    if hint is str:
        return text if text else _bad(text)
    return _bad(text)  # a nested dataclass, or a type no size has


def _parse_many(text: str, hint: Any, depth: int) -> Any:
    if depth >= len(SEPARATORS):
        raise ValueError(text)
    parts = [p.strip() for p in text.split(SEPARATORS[depth])] if text else []
    if is_list(hint):
        return tuple(parse(p, typing.get_args(hint)[0], depth + 1) for p in parts)
    kinds = item_types(hint)
    if typing.get_origin(hint) is dict:  # key:value items, keys once each
        pairs = [parse(p, tuple[kinds[0], kinds[1]], depth + 1) for p in parts]
        return _unique(pairs)
    if len(parts) != len(kinds):
        raise ValueError(text)
    return tuple(parse(p, k, depth + 1) for p, k in zip(parts, kinds))


def _unique(pairs: Sequence[tuple]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a key given twice")
    return out


def _finite(x: float) -> float:
    return x if math.isfinite(x) else _bad(x)


def _bad(text: Any) -> Any:
    raise ValueError(text)


# -- typed value (experiment.json, Python callers) -> value -----------------------------------
def coerce(value: Any, hint: Any, depth: int = 0) -> Any:
    """``value`` (text, or JSON data: lists for tuples) checked against, and converted to, the
    declared type ``hint`` (``ValueError`` if it is not one)."""
    if isinstance(value, str):
        return parse(value, hint, depth)
    optional, hint = split_optional(hint)
    if value is None:
        return None if optional else _bad(value)
    if is_list(hint) and isinstance(value, list | tuple):
        return tuple(coerce(v, typing.get_args(hint)[0], depth + 1) for v in value)
    kinds = item_types(hint)
    if typing.get_origin(hint) is dict and isinstance(value, Mapping):
        return {coerce(k, kinds[0], depth + 1): coerce(v, kinds[1], depth + 1)
                for k, v in value.items()}
    if kinds is not None and isinstance(value, list | tuple) and len(value) == len(kinds):
        return tuple(coerce(v, k, depth + 1) for v, k in zip(value, kinds))
    if hint is bool and isinstance(value, bool):
        return value
    if hint in (int, float) and isinstance(value, int) and not isinstance(value, bool):
        return value if hint is int else float(value)
    if hint is float and isinstance(value, float):
        return _finite(value)
    return _bad(value)


def render(value: Any, depth: int = 0) -> str:
    """A value in ``--set`` syntax (what :func:`parse` reads back)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        value = tuple(value.items())
    if isinstance(value, list | tuple):
        sep = SEPARATORS[min(depth, len(SEPARATORS) - 1)]
        return sep.join(render(v, depth + 1) for v in value)
    return str(value)


# -- declared ranges --------------------------------------------------------------------------
def choices_of(meta: Mapping[str, Any]) -> Any:
    choices = meta.get("choices")
    return choices() if callable(choices) else choices


def _leaves(value: Any) -> list[Any]:
    """The numbers and texts of a value (a dict's keys and values, a tuple's items)."""
    if isinstance(value, Mapping):
        value = [x for kv in value.items() for x in kv]
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None or isinstance(value, bool) else [value]


def in_range(value: Any, meta: Mapping[str, Any]) -> bool:
    """Whether every number of ``value`` is within the field's ``min`` / ``max`` / ``above``
    and every text one of its ``choices``."""
    choices = choices_of(meta)
    for leaf in _leaves(value):
        if isinstance(leaf, str):
            if choices is not None and leaf not in choices:
                return False
        elif (("min" in meta and leaf < meta["min"]) or ("max" in meta and leaf > meta["max"])
              or ("above" in meta and leaf <= meta["above"])):
            return False
    return True


def _bounds(meta: Mapping[str, Any]) -> str:
    lo, hi, above = meta.get("min"), meta.get("max"), meta.get("above")
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]"
    return "".join([f" >= {lo}" if lo is not None else "", f" > {above}" if above is not None
                    else "", f" <= {hi}" if hi is not None else ""])


def describe(hint: Any, meta: Mapping[str, Any], many: bool = False) -> str:
    """The declared type and range in words: ``an int in [8, 4096]``, ``a comma list of
    numbers in [0, 1]``, ``text:int pairs (text one of img, rand; int >= 1)``..."""
    optional, hint = split_optional(hint)
    choices = choices_of(meta)
    if is_list(hint):
        text = "a comma list of " + describe(typing.get_args(hint)[0], meta, many=True)
    elif (kinds := item_types(hint)) is not None:
        notes = [f"text one of {', '.join(choices)}"] if str in kinds and choices else []
        notes += [_word(k) + _bounds(meta) for k in dict.fromkeys(kinds)
                  if k in (int, float) and _bounds(meta)]
        text = ("a comma list of " if typing.get_origin(hint) is dict else "") + ":".join(
            map(_word, kinds)) + (" pairs" if len(kinds) == 2 else " items") + (
            f" ({'; '.join(notes)})" if notes else "")
    elif hint is str and choices is not None:
        text = ("names from " if many else "one of ") + ", ".join(choices)
    else:
        text = WORDS.get(hint, (hint.__name__,) * 3)[1 if many else 0] + (
            _bounds(meta) if hint in (int, float) else "")
    return text + (" or none" if optional else "")


def _word(hint: Any) -> str:
    return WORDS.get(hint, (getattr(hint, "__name__", str(hint)),) * 3)[2]


# -- the fields of a sizes class --------------------------------------------------------------
@functools.cache
def settable(cls: type) -> dict[str, tuple[Any, Mapping[str, Any]]]:
    """``{key: (declared type, metadata)}`` of every size ``--set`` may change, a nested
    dataclass's as ``field.size``; a nested dataclass itself maps to ``(its class, {})``."""
    hints = typing.get_type_hints(cls)
    out: dict[str, tuple[Any, Mapping[str, Any]]] = {}
    for f in dataclasses.fields(cls):
        if not f.metadata.get("override", True):
            continue
        out[f.name] = (hints[f.name], f.metadata)
        if is_group(hints[f.name]):
            out.update({f"{f.name}.{k}": v for k, v in settable(hints[f.name]).items()})
    return out


def overridable(sizes: Any) -> dict[str, Any]:
    """``{key: value}`` of a sizes dataclass that ``--set`` may change (nested sizes as
    ``field.size``; the nested dataclasses themselves left out)."""
    return {k: _get(sizes, k) for k, (hint, _) in settable(type(sizes)).items()
            if not is_group(hint)}


def _get(sizes: Any, key: str) -> Any:
    for part in key.split("."):
        sizes = getattr(sizes, part)
    return sizes


def _example(key: str, current: Any, table: Mapping[str, Any]) -> str:
    """``, e.g. key=value`` from the profile's value, or another profile's where the
    profile's says nothing (none, an empty list); empty if no profile has one."""
    values = [current, *(_get(s, key) for s in table.values())]
    shown = [v for v in values if v is not None and v != ()]
    return f", e.g. {key}={render(shown[0])}" if shown else ""


def resolve(sizes: Mapping[str, Any] | None, profile: str, sets: Mapping[str, Any],
            owner: str) -> dict[str, Any]:
    """Typed, range-checked overrides of the sizes value ``sizes[profile]`` (``profile``
    already checked); one-line errors name the key, its type and range."""
    if not sets:
        return {}
    if sizes is None:
        raise ConfigError(f"Experiment '{owner}' has no size table; --set is not available "
                          f"for it.")
    value = sizes[profile]
    fields = settable(type(value))
    out = {}
    for key, raw in sets.items():
        if key not in fields:
            valid = [k for k, (h, _) in fields.items() if not is_group(h)]
            raise ConfigError(f"Unknown size '{key}' for {owner} --profile {profile}; valid: "
                              f"{', '.join(sorted(valid))}.")
        out[key] = _typed(key, raw, *fields[key], value, sizes)
    return out


def _typed(key: str, raw: Any, hint: Any, meta: Mapping[str, Any], value: Any,
           table: Mapping[str, Any]) -> Any:
    if is_group(hint):
        inner = ", ".join(f"{key}.{k}" for k in overridable(_get(value, key)))
        raise ConfigError(f"--set {key}=...: {key} is a group of sizes; set one of {inner}.")
    try:
        typed = coerce(raw, hint)
        if in_range(typed, meta):
            return typed
    except (ValueError, TypeError, KeyError):
        pass
    shown = raw if isinstance(raw, str) else _render_raw(raw)
    raise ConfigError(f"--set {key}={shown}: {key} takes {describe(hint, meta)}"
                      f"{_example(key, _get(value, key), table)}.")


def _render_raw(raw: Any) -> str:
    try:
        return render(raw)
    except (TypeError, ValueError):
        return repr(raw)


def apply(sizes: Any, overrides: Mapping[str, Any]) -> Any:
    """A new sizes value with the (resolved) ``overrides`` (``field.size`` keys replace inside
    the nested value); ``sizes`` itself is unchanged."""
    if not overrides:
        return sizes
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, v in overrides.items():
        head, dot, rest = key.partition(".")
        if dot:
            nested.setdefault(head, {})[rest] = v
        else:
            top[key] = v
    top.update({head: apply(getattr(sizes, head), sub) for head, sub in nested.items()})
    return dataclasses.replace(sizes, **top)
