"""Every run of an experiment folder (or of a folder of experiment folders, as ``t2d
reproduce`` writes) as one pandas DataFrame: the convention of Ray Tune's
``ResultGrid.get_dataframe()``, one row per run, spec fields as ``config/...`` columns, metrics
beside them.

Columns: ``experiment``, ``profile``, ``run`` (the spec hash), ``status``; ``config/<field>``
for every scalar spec field (nested ones dotted, e.g. ``config/source.n``; lists as
comma-joined text; probe and invariance targets by name in ``config/probes`` and
``config/invariance``); ``pretrain/<metric>`` (the final epoch's, plus ``pretrain/epochs`` and
``pretrain/stopped_early``), ``probe/<target>/<metric>`` and ``invariance/<target>/<metric>``.
Unfinished runs have empty metrics (and runs never started, no config: their spec.json is
written when they start).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..engine.store import DONE, RunStore, read_json
from ..errors import ConfigError


def _flat(prefix: str, value: Any, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        if value and all(isinstance(v, dict) and "name" in v for v in value):
            out[prefix] = ",".join(str(v["name"]) for v in value)  # targets: their names
        else:
            out[prefix] = ",".join(str(v) for v in value)
    else:
        out[prefix] = value


def _metrics(result: dict) -> dict:
    out: dict[str, Any] = {}
    pre = result.get("pretrain") or {}
    for k, v in (pre.get("final") or {}).items():
        out[f"pretrain/{k}"] = v
    out["pretrain/epochs"] = len(pre.get("history") or [])
    out["pretrain/stopped_early"] = pre.get("stopped_early")
    for name, probe in (result.get("probes") or {}).items():
        for k, v in probe.items():
            if not isinstance(v, list | dict):  # curves stay in result.json
                out[f"probe/{name}/{k}"] = v
    for name, inv in (result.get("invariance") or {}).items():
        for k, v in inv.items():
            out[f"invariance/{name}/{k}"] = v
    return out


def _rows(folder: Path) -> list[dict]:
    store = RunStore(folder)
    rec = store.experiment() or {}
    rows = []
    for h in store.hashes():
        spec = read_json(store.run_dir(h) / "spec.json") or {}
        row: dict[str, Any] = {"experiment": rec.get("experiment"),
                               "profile": rec.get("profile"), "run": h,
                               "status": store.status(h)}
        flat: dict[str, Any] = {}
        _flat("", {k: v for k, v in spec.items() if k != "format"}, flat)
        row.update({f"config/{k}": v for k, v in flat.items()})
        if row["status"] == DONE:
            row.update(_metrics(store.result(h) or {}))
        rows.append(row)
    return rows


def experiment_folders(out: str | os.PathLike) -> list[Path]:
    """``out`` itself if it is an experiment folder, else its sub-folders that are."""
    root = Path(out)
    if (root / "experiment.json").is_file():
        return [root]
    if not root.is_dir():
        raise ConfigError(f"{root} does not exist; pass an experiment folder (t2d run --out) "
                          f"or a reproduce folder.")
    found = sorted(d for d in root.iterdir() if (d / "experiment.json").is_file())
    if not found:
        raise ConfigError(f"{root} holds no experiment (no experiment.json in it or its "
                          f"sub-folders); run `t2d run EXPERIMENT --out {root}` first.")
    return found


def load_results(out: str | os.PathLike):
    """Every run under ``out`` as one DataFrame (see the module docstring for the columns)."""
    import pandas as pd

    rows = [r for folder in experiment_folders(out) for r in _rows(folder)]
    head = ["experiment", "profile", "run", "status"]
    df = pd.DataFrame(rows)
    config = sorted(c for c in df.columns if c.startswith("config/"))
    metrics = [c for c in df.columns if c not in head and c not in config]
    return df[head + config + metrics]
