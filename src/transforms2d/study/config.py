"""Your own experiment as data: ``t2d run --config study.yaml`` (YAML, TOML or JSON).

A config defines a grid with the same engine as the paper's experiments (hashing, resume,
executors, reports): every model × seed is one run that pretrains on ``source``, probes each of
``probes`` and measures each of ``invariance``::

    name: blur-transfer            # the experiment is recorded as config:<name>
    seeds: 3
    models: [convnet_xs, resnet_s] # registry names, or {name: ..., kwargs: {...}}
    source: {objects: 10, transforms: [blur], n: 2000, image_size: 32}
    source_val: {n: 200}           # optional; fields not given are the source's
    train: {epochs: 10, batch_size: 128, stop_train_acc: 0.98}
    probes:                        # optional; test fields not given are train's, and probe
                                   # and invariance data are rendered at the source's size
      - {name: other_objects, train: {objects: [20, 21, 22], transforms: [blur], n: 600},
         test: {n: 600}, probe: {epochs: 100}}
    invariance:                    # optional
      - {name: blur, data: {objects: 10, transforms: [blur], n: 500}}

Every field is checked (an unknown one lists the valid ones; a syntax error gives the line and
column). The resolved config is written to ``OUT/config.json``, from which ``t2d report`` rebuilds
the experiment. The report: per model, the mean over seeds with 95% bootstrap intervals of the
pretraining accuracy, every probe's test accuracy and every invariance metric.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..engine.registry import Experiment
from ..engine.spec import InvarianceTarget, ProbeTarget, RunSpec
from ..errors import ConfigError
from ..io import write_json
from ..reporting.stats import mean_ci

FIELDS = ("name", "seeds", "models", "source", "source_val", "train", "probes", "invariance")
PREFIX = "config:"
CONFIG_FILE = "config.json"


def _parse_text(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark
            raise ConfigError(f"{path}: line {mark.line + 1}, column {mark.column + 1}: "
                              f"{e.problem}.") from None
    if suffix == ".toml":
        try:
            import tomllib  # Python >= 3.11
        except ImportError:
            raise ConfigError(f"{path}: TOML configs need Python >= 3.11; use YAML or JSON.") \
                from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}.") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}.") from None
    raise ConfigError(f"Config {path} must be .yaml, .yml, .toml or .json.")


def load_config(path: str | os.PathLike) -> dict:
    """Read and check a config file; returns the resolved config (plain data)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"Cannot read config {path} ({e.strerror or e}).") from None
    return check_config(_parse_text(path, text), str(path))


def _models(value: Any, where: str) -> list[dict]:
    items = [value] if isinstance(value, str | Mapping) else value
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}: 'models' must list model names (see `t2d models`).")
    out = []
    for m in items:
        if isinstance(m, str):
            m = {"name": m}
        if not isinstance(m, Mapping) or set(m) - {"name", "kwargs"} or "name" not in m:
            raise ConfigError(f"{where}: each model is a name or {{name: ..., kwargs: {{...}}}}; "
                              f"got {m!r}.")
        out.append({"name": str(m["name"]), "kwargs": dict(m.get("kwargs") or {})})
    return out


def check_config(cfg: Any, where: str = "config") -> dict:
    """The config with defaults filled in, every run spec built once to check it."""
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"{where} must be a mapping of {', '.join(FIELDS)}.")
    unknown = sorted(set(cfg) - set(FIELDS), key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown field '{unknown[0]}'; valid: {', '.join(FIELDS)}.")
    for key in ("name", "models", "source"):
        if key not in cfg:
            raise ConfigError(f"{where}: the '{key}' field is required.")
    out = {"name": str(cfg["name"]), "seeds": cfg.get("seeds", 1),
           "models": _models(cfg["models"], where), "source": dict(cfg["source"]),
           "source_val": cfg.get("source_val"), "train": dict(cfg.get("train") or {}),
           "probes": list(cfg.get("probes") or []),
           "invariance": list(cfg.get("invariance") or [])}
    if not isinstance(out["seeds"], int) or isinstance(out["seeds"], bool) or out["seeds"] < 1:
        raise ConfigError(f"{where}: 'seeds' must be an int >= 1. Got {out['seeds']!r}.")
    try:
        specs(out)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    except TypeError as e:  # a probe or invariance entry with a field the target lacks
        raise ConfigError(f"{where}: {e}.") from None
    return out


def _probe(p: Mapping, size: Any) -> ProbeTarget:
    p = dict(p)
    train = {"image_size": size, **dict(p.get("train") or {})}
    p["train"] = train
    p["test"] = {**train, **dict(p.get("test") or {})}
    if p.get("val") is not None:
        p["val"] = {**train, **dict(p["val"])}
    return ProbeTarget(**p)


def specs(cfg: Mapping) -> list[RunSpec]:
    """One run per model and seed, in config order."""
    source = cfg["source"]
    val = None if cfg.get("source_val") is None else {**source, **dict(cfg["source_val"])}
    size = source.get("image_size", 32)  # targets are rendered at the source's size by default
    probes = tuple(_probe(p, size) for p in cfg["probes"])
    inv = tuple(InvarianceTarget(**{**dict(t), "data": {"image_size": size,
                                                        **dict(t.get("data") or {})}})
                for t in cfg["invariance"])
    return [RunSpec(model=m["name"], model_kwargs=m["kwargs"], source=source, source_val=val,
                    train=cfg["train"], probes=probes, invariance=inv, seed=seed)
            for m in cfg["models"] for seed in range(cfg["seeds"])]


def _label(spec: RunSpec) -> str:
    kw = ", ".join(f"{k}={v}" for k, v in spec.model_kwargs.items())
    return spec.model + (f" ({kw})" if kw else "")


def aggregate(records: list[dict], profile: str | None) -> dict:
    """Per model: mean [95% CI] over seeds of every recorded number."""
    import pandas as pd

    values: dict[str, dict[str, list[float]]] = {}
    for r in records:
        res, row = r["result"], values.setdefault(_label(r["spec"]), {})
        row.setdefault("pretrain train_acc", []).append(res["pretrain"]["final"]["train_acc"])
        for name, p in res["probes"].items():
            row.setdefault(f"probe {name} test_acc", []).append(p["test_acc"])
        for name, inv in res["invariance"].items():
            for metric, v in inv.items():
                row.setdefault(f"invariance {name} {metric}", []).append(v)
    rows = []
    for model, cols in values.items():
        for measure, vs in cols.items():
            ci = mean_ci(vs)
            rows.append({"model": model, "measure": measure, "seeds": ci.n, "mean": ci.mean,
                         "ci_low": ci.low, "ci_high": ci.high})
    table = pd.DataFrame(rows, columns=["model", "measure", "seeds", "mean", "ci_low",
                                        "ci_high"])
    md = ("A config experiment: per model, the mean over seeds of each number with its 95% "
          "percentile-bootstrap interval (table `config_summary`).\n")
    return {"markdown": md, "tables": {"config_summary": table}}


def experiment(cfg: Mapping) -> Experiment:
    """The config as an (unregistered) :class:`Experiment` named ``config:<name>``."""
    return Experiment(PREFIX + cfg["name"], lambda profile, seeds: specs(cfg), aggregate,
                      description=f"config experiment '{cfg['name']}'", profiles=("config",))


def save_config(folder: Path, cfg: Mapping) -> None:
    """Write the resolved config; a folder holding another config's runs is refused."""
    path = folder / CONFIG_FILE
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            old = None
        if old is not None and old.get("name") != cfg["name"]:
            raise ConfigError(f"{folder} holds config experiment '{old.get('name')}', not "
                              f"'{cfg['name']}'; pass another --out.")
    write_json(path, dict(cfg))


def load_saved(folder: Path) -> Experiment:
    """The experiment of a config folder, rebuilt from ``config.json``."""
    path = Path(folder) / CONFIG_FILE
    try:
        cfg = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        raise ConfigError(f"{path} is missing or not valid JSON; rerun t2d run --config.") \
            from None
    return experiment(check_config(cfg, str(path)))
