"""Execute one run spec in its folder, resuming from whatever finished stages are stored.

Stages, each ending in an atomic write: pretraining (``pretrain.pt``), one probe per target
(``probes/<name>.json``), then invariance and ``result.json`` (written last: it marks the run
done). A killed run redoes at most its current stage.

Determinism: the model is initialised after ``torch.manual_seed(spec.seed)``, datasets draw from
counter-based seeds, probe heads from seeded generators; probes and invariance always use the
model *loaded back* from ``pretrain.pt`` (a fresh process and an uninterrupted one then take the
same code path, memory format included). Wall times go to ``log.txt``, never into results, so
an interrupted-and-resumed run writes the same ``result.json`` bytes as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..io import write_json
from .spec import RunSpec, plain, spec_hash
from .store import RESULT_FORMAT, log, read_json


def build_dataset(kwargs: Mapping[str, Any], split: str):
    """A ``Transforms2D`` from a spec's normalised arguments on ``split``."""
    from ..data import Transforms2D

    kw = dict(kwargs)
    if isinstance(kw.get("transforms"), Mapping):  # JSON keys are strings; classes are ints
        kw["transforms"] = {int(c): v for c, v in kw["transforms"].items()}
    return Transforms2D(**kw, split=split)


def pretrain(spec: RunSpec, path: Path, progress: bool = False, device: str = "cpu") -> None:
    """Train ``spec.model`` on the source's train split; save it (and its history) to ``path``."""
    from ..models import create_model
    from ..train import EvalSet, TrainConfig, save_checkpoint, train

    cfg = TrainConfig(**spec.train, seed=spec.seed, device=device, progress=progress)
    data = build_dataset(spec.source, "train")
    test = None if spec.source_test is None else EvalSet.render(
        build_dataset(spec.source_test, "test"))
    torch.manual_seed(spec.seed)
    kwargs = plain(spec.model_kwargs)
    net = create_model(spec.model, num_classes=data.num_classes, **kwargs)
    res = train(net, data, cfg, test=test, model_name=spec.model, desc="pretrain")
    save_checkpoint(path, net, spec.model, kwargs, history=res.history, final=res.final)


def probe(net, target, seed: int, progress: bool = False, device: str = "cpu") -> dict:
    """Linear probe of the frozen ``net`` on one :class:`ProbeTarget`; accuracies only."""
    from ..train import ProbeConfig, linear_probe

    cfg = ProbeConfig(**target.probe, seed=seed, device=device, progress=progress)
    sets = {role: None if getattr(target, role) is None else
            build_dataset(getattr(target, role), split)
            for role, split in (("train", "train"), ("val", "val"), ("test", "test"))}
    torch.manual_seed(seed)
    res = linear_probe(net, sets["train"], sets["val"], sets["test"], cfg)
    return {"train_acc": res.train_acc, "val_acc": res.val_acc, "test_acc": res.test_acc}


def measure(net, target, seed: int) -> dict:
    """Invariance metrics of ``net`` on one :class:`InvarianceTarget` (test split vs twin)."""
    from ..metrics import invariance

    ds = build_dataset(target.data, "test")
    return invariance(net, ds, ds.with_transform_seed(target.twin_seed),
                      metrics=target.metrics, seed=seed)


def execute(spec: RunSpec, run_dir: str | Path, progress: bool = False,
            device: str = "cpu") -> dict:
    """Run ``spec`` in ``run_dir`` (resuming finished stages) and return its result dict.

    Raises whatever a stage raises (the executor records it); finished stages stay stored.
    """
    from ..train import load_checkpoint

    run_dir, h = Path(run_dir), spec_hash(spec)
    ckpt = run_dir / "pretrain.pt"
    if ckpt.exists():
        log(run_dir, "pretrain: reusing pretrain.pt")
    else:
        t0 = time.perf_counter()
        log(run_dir, f"pretrain: start ({spec.model}, {spec.train['epochs']} epochs)")
        pretrain(spec, ckpt, progress, device)
        log(run_dir, f"pretrain: done in {time.perf_counter() - t0:.1f}s")
    net, meta = load_checkpoint(ckpt, model=spec.model)
    net.to(device)

    probes = {}
    for target in spec.probes:
        path = run_dir / "probes" / f"{target.name}.json"
        stored = read_json(path)
        if isinstance(stored, dict) and stored.get("spec_hash") == h:
            probes[target.name] = stored["probe"]
            continue
        t0 = time.perf_counter()
        log(run_dir, f"probe {target.name}: start")
        probes[target.name] = probe(net, target, spec.seed, progress, device)
        write_json(path, {"spec_hash": h, "target": target.name, "probe": probes[target.name]})
        log(run_dir, f"probe {target.name}: done in {time.perf_counter() - t0:.1f}s")

    t0 = time.perf_counter()
    inv = {t.name: measure(net, t, spec.seed) for t in spec.invariance}
    if spec.invariance:
        log(run_dir, f"invariance: done in {time.perf_counter() - t0:.1f}s")
    result = {"format": RESULT_FORMAT, "spec_hash": h, "spec": spec.to_dict(),
              "pretrain": {"history": meta.get("history", []), "final": meta.get("final", {})},
              "probes": probes, "invariance": inv}
    write_json(run_dir / "result.json", result)  # last: its presence marks the run done
    log(run_dir, "result: written")
    return result
