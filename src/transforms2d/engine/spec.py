"""Run specs: one run (pretrain a model on a source dataset; probe and measure it on targets) as
pure, hashable data.

A spec is normalised when it is built — ``objects=3`` becomes ``[0, 1, 2]``, ``"hue,invert"``
becomes ``["hue", "invert"]``, missing dataset arguments and training settings take their
defaults, integral floats become ints — so that the same run reached from two axes of an
experiment (or written two ways) has the same :func:`spec_hash` and is computed once.

A data dict describes a ``Transforms2D`` by default; with ``"dataset": "cifar"`` it describes a
:class:`~transforms2d.data.TransformedCIFAR` (its own arguments, normalised against its own
defaults). Ordinary Transforms-2D dicts never get a ``dataset`` key, so their hashes do not
depend on this option.

Execution settings (device, progress bars) are not part of a spec: they do not change what a
run *is*, so a run done on one machine is reused on another. Likewise where CIFAR lives (``root``)
is never part of a spec: the loader finds the data at run time (``$T2D_CIFAR_ROOT``...).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..assets.cifar import FORMATS
from ..data import TWIN_FACTORS, TransformedCIFAR, Transforms2D
from ..data.cifar import NORMALIZE, check_counts
from ..errors import ConfigError
from ..metrics import METRICS
from ..train import ProbeConfig, TrainConfig, recipe_for
from ..validation import check_choice, check_int

SPEC_FORMAT = 2  # bump when the meaning of a field changes: old runs then hash differently
EXECUTION_KEYS = ("device", "progress", "seed", "compile")  # set by the run, never by the spec
DATA_EXCLUDED = ("self", "split", "epoch", "device")  # the split is fixed by the role
DATASETS = ("transforms2d", "cifar")  # values of a data dict's "dataset" key
MACHINE_KEYS = ("root", "download")  # where CIFAR is found: per machine, never in a spec


def _defaults(cls, excluded: Sequence[str]) -> Mapping[str, Any]:
    params = inspect.signature(cls).parameters
    return MappingProxyType({k: p.default for k, p in params.items() if k not in excluded})


@functools.cache  # read-only; a grid normalises thousands of dicts
def data_defaults() -> Mapping[str, Any]:
    """The ``Transforms2D`` constructor arguments a spec may set, with their defaults."""
    return _defaults(Transforms2D, DATA_EXCLUDED)


@functools.cache
def cifar_defaults() -> Mapping[str, Any]:
    """The ``TransformedCIFAR`` constructor arguments a spec may set, with their defaults."""
    return _defaults(TransformedCIFAR, DATA_EXCLUDED + MACHINE_KEYS)


@functools.cache
def train_defaults() -> Mapping[str, Any]:
    return MappingProxyType({f.name: f.default for f in dataclasses.fields(TrainConfig)
                             if f.name not in EXECUTION_KEYS})


# profile sizes that are TrainConfig fields
SIZE_KEYS = ("epochs", "batch_size", "stop_train_acc", "stop_patience", "keep", "fit_samples",
             "extend_epochs")


def train_settings(model: str, sizes: Mapping[str, Any]) -> dict[str, Any]:
    """A spec's ``train`` field: ``model``'s paper recipe (optimiser, schedule) with the
    ``"epochs"`` and ``"batch_size"`` (and, if given, the early stop ``"stop_train_acc"`` /
    ``"stop_patience"``, the weights kept, ``"keep"``, the fit subset ``"fit_samples"`` and
    the extension ``"extend_epochs"``) of an experiment profile's ``sizes``, without the
    execution settings the run fills in."""
    cfg = recipe_for(model, **{k: sizes[k] for k in SIZE_KEYS if k in sizes}).to_dict()
    return {k: v for k, v in cfg.items() if k not in EXECUTION_KEYS}


@functools.cache
def probe_defaults() -> Mapping[str, Any]:
    return MappingProxyType({f.name: f.default for f in dataclasses.fields(ProbeConfig)
                             if f.name not in EXECUTION_KEYS})


def plain(obj: Any, where: str = "spec") -> Any:
    """A JSON-able copy of ``obj``: mappings -> dicts (str keys), sequences -> lists, integral
    floats -> ints (``1.0`` and ``1`` hash the same); NaN, infinities and objects refused."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ConfigError(f"The '{where}' field must be a finite number. Got {obj} instead.")
        return int(obj) if obj.is_integer() else obj
    raise ConfigError(f"The '{where}' field must be JSON data (numbers, strings, lists, dicts). "
                      f"Got a {type(obj).__name__} instead.")


def freeze(obj: Any) -> Any:
    """Read-only view of plain JSON data: dicts -> mapping proxies, lists -> tuples."""
    if isinstance(obj, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple(freeze(v) for v in obj)
    return obj


def _merge(given: Mapping, defaults: Mapping, where: str) -> dict:
    if not isinstance(given, Mapping):
        raise ConfigError(f"The '{where}' field must be a mapping. Got {given!r} instead.")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ConfigError(f"Unknown key '{where}.{unknown[0]}'. Valid: {', '.join(defaults)}.")
    return plain({**defaults, **given}, where)


MAX_OBJECTS = 100_000  # far above any pack (the built-in has 60): a bound, not a limit of use


def normalize_data(given: Mapping, where: str) -> dict:
    """Full dataset arguments (defaults filled in) in their canonical form: ``Transforms2D``'s,
    or with ``"dataset": "cifar"`` ``TransformedCIFAR``'s (the key kept)."""
    kind = given.get("dataset", "transforms2d") if isinstance(given, Mapping) else None
    if kind == "cifar":
        return _normalize_cifar(given, where)
    if kind != "transforms2d" and isinstance(given, Mapping):
        raise ConfigError(f"The '{where}.dataset' field must be one of {', '.join(DATASETS)}. "
                          f"Got {kind!r} instead.")
    if isinstance(given, Mapping) and "dataset" in given:  # the default, left implicit
        given = {k: v for k, v in given.items() if k != "dataset"}
    d = _merge(given, data_defaults(), where)
    if isinstance(d["objects"], int) and not isinstance(d["objects"], bool):
        # Expanded to the canonical list here, before any pack is read (the dataset checks the
        # pack's count): bounded so that a typo cannot ask for billions of indices.
        d["objects"] = list(range(check_int(f"{where}.objects", d["objects"], 1, MAX_OBJECTS)))
    t = d["transforms"]
    if isinstance(t, str):
        d["transforms"] = [s.strip() for s in t.split(",") if s.strip()]
    if not isinstance(d["assets"], str):
        raise ConfigError(f"The '{where}.assets' field must be a pack name (a string).")
    return d


def _normalize_cifar(given: Mapping, where: str) -> dict:
    """``TransformedCIFAR`` arguments in canonical form, checked without reading any data."""
    machine = sorted(set(given) & set(MACHINE_KEYS))
    if machine:
        raise ConfigError(f"The '{where}.{machine[0]}' field is not part of a spec: the CIFAR "
                          f"data are found at run time (set T2D_CIFAR_ROOT).")
    d = _merge({k: v for k, v in given.items() if k != "dataset"}, cifar_defaults(), where)
    if isinstance(d["transforms"], str):
        d["transforms"] = [s.strip() for s in d["transforms"].split(",") if s.strip()]
    try:
        check_choice(f"{where}.name", d["name"], tuple(FORMATS))
        check_choice(f"{where}.normalize", d["normalize"], NORMALIZE)
        check_counts(d["n"], d["n_per_class"], d["fraction"])
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    c = d["classes"]
    k = FORMATS[d["name"]].num_classes
    if c is not None and (not isinstance(c, list) or not c or len(set(map(str, c))) != len(c)
                          or not all(type(v) is int and 0 <= v < k for v in c)):
        raise ConfigError(f"The '{where}.classes' field must be null or a list of distinct "
                          f"class indices in 0..{k - 1}. Got {c!r} instead.")
    return {"dataset": "cifar", **d}


def _config(given: Mapping, defaults: Mapping, cls: type, where: str) -> dict:
    d = _merge(given, defaults, where)
    try:  # validates values with the config's own checks; seed/device filled by the run
        cls(**d)
    except TypeError as e:
        raise ConfigError(f"The '{where}' field is invalid: {e}.") from None
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return d


# Settings added after SPEC_FORMAT 2: left out of the canonical form at the value every earlier
# spec meant, so that the runs stored before them keep their hashes (and are reused).
TRAIN_ADDED = MappingProxyType({"keep": "last", "fit_samples": 0, "extend_epochs": 0})
LEGACY_PROBE_SOLVER = "adam"  # a spec's probe without "solver": every probe before it existed
SOLVER_KEYS = MappingProxyType({"adam": ("epochs", "batch_size", "lr"),
                                "lbfgs": ("l2", "tol", "max_iter")})


def _implicit(d: dict, added: Mapping[str, Any]) -> dict:
    return {k: v for k, v in d.items() if k not in added or v != added[k]}


def canonical_probe(given: Mapping, where: str = "probe") -> dict:
    """A probe target's canonical ``ProbeConfig`` fields: ``solver`` (``"adam"`` when not
    given, which every spec written before the L-BFGS solver means) and only the settings
    that solver reads (``views`` for both; ``epochs``, ``batch_size``, ``lr`` for Adam;
    ``l2``, ``tol``, ``max_iter`` for L-BFGS). The Adam form leaves ``solver`` implicit, so
    those specs hash as before. :func:`probe_config` reads it back."""
    if not isinstance(given, Mapping):
        raise ConfigError(f"The '{where}' field must be a mapping. Got {given!r} instead.")
    d = _config({"solver": LEGACY_PROBE_SOLVER, **given}, probe_defaults(), ProbeConfig, where)
    unused = [k for solver, keys in SOLVER_KEYS.items() if solver != d["solver"] for k in keys]
    if d["solver"] == LEGACY_PROBE_SOLVER:
        unused.append("solver")
    return {k: v for k, v in d.items() if k not in unused}


def probe_config(probe: Mapping, **execution) -> ProbeConfig:
    """The ``ProbeConfig`` of a spec's canonical probe settings (see :func:`canonical_probe`)
    with the execution settings (seed, device, progress) of the run."""
    return ProbeConfig(**{"solver": LEGACY_PROBE_SOLVER, **probe, **execution})


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise ConfigError(f"The '{where}' field must be a non-empty name without '/'. "
                          f"Got {value!r} instead.")
    return value


@dataclass(frozen=True)
class ProbeTarget:
    """A linear-probe target: ``train`` / ``test`` (optional ``val``) are ``Transforms2D``
    arguments (the split comes from the role); ``probe`` overrides ``ProbeConfig`` fields.

    ``finetune`` (``TrainConfig`` overrides, e.g. ``{"epochs": 20}``), when given, also fine-tunes
    all weights from the probed model on the same training set (docs/protocol.md §4, appendix)."""

    name: str
    train: Mapping[str, Any]
    test: Mapping[str, Any]
    val: Mapping[str, Any] | None = None
    probe: Mapping[str, Any] = field(default_factory=dict)
    finetune: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        w = f"probes.{self.name}"
        _set(self, "name", _name(self.name, "probes[].name"))
        for role in ("train", "test", "val"):
            if getattr(self, role) is not None:
                _set(self, role, freeze(normalize_data(getattr(self, role), f"{w}.{role}")))
        _set(self, "probe", freeze(canonical_probe(self.probe, f"{w}.probe")))
        if self.finetune is not None:
            _set(self, "finetune", freeze(_implicit(_config(
                self.finetune, train_defaults(), TrainConfig, f"{w}.finetune"), TRAIN_ADDED)))


@dataclass(frozen=True)
class InvarianceTarget:
    """Invariance on the test split of ``data`` against its twin: the same samples with one
    factor redrawn with ``twin_seed`` — ``twin_factor`` ``"transform"`` (the transformation
    parameters, docs/protocol.md §5), ``"object"`` or ``"background"`` (docs/protocol.md §6 E2)."""

    name: str
    data: Mapping[str, Any]
    metrics: tuple[str, ...] = ("l2", "cos", "dot", "cka")
    twin_seed: int = 1
    twin_factor: str = "transform"

    def __post_init__(self) -> None:
        w = f"invariance.{self.name}"
        _set(self, "name", _name(self.name, "invariance[].name"))
        _set(self, "data", freeze(normalize_data(self.data, f"{w}.data")))
        metrics = (self.metrics,) if isinstance(self.metrics, str) else \
            tuple(self.metrics) if isinstance(self.metrics, list | tuple) else ()
        bad = [m for m in metrics if not isinstance(m, str) or m not in METRICS]
        if bad or not metrics:
            raise ConfigError(f"The '{w}.metrics' field must list some of "
                              f"{', '.join(METRICS)}. Got {self.metrics!r} instead.")
        _set(self, "metrics", metrics)
        _int(self.twin_seed, f"{w}.twin_seed")
        check_choice(f"{w}.twin_factor", self.twin_factor, TWIN_FACTORS, kind="field")
        if self.data.get("dataset") == "cifar" and self.twin_factor != "transform":
            raise ConfigError(f"The '{w}.twin_factor' field must be 'transform' for CIFAR data "
                              f"(whole images have no separate object or background).")


@dataclass(frozen=True)
class RunSpec:
    """One run: pretrain ``model`` on ``source`` (train split; ``source_val`` and
    ``source_test``, on their splits, evaluated each epoch if given), then probe each of
    ``probes`` and measure each of ``invariance``.

    ``train`` overrides ``TrainConfig`` fields (use ``recipe_for(model).to_dict()`` for a
    model's paper recipe); ``seed`` seeds model init, training and probe heads.
    """

    model: str
    source: Mapping[str, Any]
    train: Mapping[str, Any] = field(default_factory=dict)
    probes: tuple[ProbeTarget, ...] = ()
    invariance: tuple[InvarianceTarget, ...] = ()
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    source_val: Mapping[str, Any] | None = None
    source_test: Mapping[str, Any] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        _name(self.model, "model")  # the registry is checked when the run executes
        _int(self.seed, "seed")
        _set(self, "source", freeze(normalize_data(self.source, "source")))
        for role in ("source_val", "source_test"):
            if getattr(self, role) is not None:
                _set(self, role, freeze(normalize_data(getattr(self, role), role)))
        _set(self, "train", freeze(_implicit(_config(self.train, train_defaults(),
                                                     TrainConfig, "train"), TRAIN_ADDED)))
        if not isinstance(self.model_kwargs, Mapping):
            raise ConfigError(f"The 'model_kwargs' field must be a mapping. Got "
                              f"{self.model_kwargs!r} instead.")
        _set(self, "model_kwargs", freeze(plain(self.model_kwargs, "model_kwargs")))
        for key, cls in (("probes", ProbeTarget), ("invariance", InvarianceTarget)):
            items = tuple(getattr(self, key))
            if not all(isinstance(t, cls) for t in items):
                raise ConfigError(f"The '{key}' field must hold {cls.__name__} items.")
            names = [t.name for t in items]
            if len(set(names)) != len(names):
                raise ConfigError(f"The '{key}' field names a target twice: {names}.")
            _set(self, key, items)

    def to_dict(self) -> dict:
        """The canonical plain-data form (what ``spec.json`` holds)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["probes"] = [{f.name: getattr(t, f.name) for f in dataclasses.fields(t)}
                       for t in self.probes]
        d["invariance"] = [{f.name: getattr(t, f.name) for f in dataclasses.fields(t)}
                           for t in self.invariance]
        return {"format": SPEC_FORMAT, **plain(d)}

    @classmethod
    def from_dict(cls, d: Any) -> RunSpec:
        """Validate and build a spec from plain data (e.g. a ``spec.json`` edited by hand)."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"A run spec must be a JSON object. Got {type(d).__name__}.")
        d = dict(d)
        fmt = d.pop("format", SPEC_FORMAT)
        if fmt != SPEC_FORMAT:
            raise ConfigError(f"The 'format' field must be {SPEC_FORMAT}. Got {fmt!r} instead.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"Unknown key '{unknown[0]}'. Valid: {', '.join(sorted(known))}.")
        for key in ("model", "source"):
            if key not in d:
                raise ConfigError(f"The '{key}' field is missing.")
        for key in ("probes", "invariance"):
            if not isinstance(d.get(key, ()), list | tuple):
                raise ConfigError(f"The '{key}' field must be a list of targets. Got "
                                  f"{d[key]!r} instead.")
        d["probes"] = tuple(_target(ProbeTarget, t, "probes") for t in d.get("probes", ()))
        d["invariance"] = tuple(_target(InvarianceTarget, t, "invariance")
                                for t in d.get("invariance", ()))
        return cls(**d)

    def __hash__(self) -> int:
        return int(spec_hash(self), 16)

    def replace(self, **changes) -> RunSpec:
        return dataclasses.replace(self, **changes)


def _target(cls, d: Any, where: str):
    if not isinstance(d, Mapping):
        raise ConfigError(f"Each '{where}' item must be a JSON object. Got {d!r} instead.")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"Unknown key '{where}[].{unknown[0]}'. Valid: {', '.join(known)}.")
    try:
        return cls(**d)
    except TypeError as e:  # a required field is missing
        raise ConfigError(f"A '{where}' item is incomplete: {e}.") from None


def _set(obj, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # normalising a frozen dataclass in __post_init__


def _int(value: Any, where: str) -> None:
    check_int(where, value, 0, kind="field")


def canonical_json(spec: RunSpec) -> str:
    """Sorted keys, no whitespace, shortest round-trip floats: equal runs give equal text."""
    return json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)


def spec_hash(spec: RunSpec) -> str:
    """The run's name: the first 16 hex digits of the SHA-256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:16]
