"""Execute one run spec in its folder, resuming from whatever finished stages are stored.

Stages, each ending in an atomic write: pretraining (``pretrain.pt``), one probe per target
(``probes/<name>.json``), then invariance and ``result.json`` (written last: it marks the run
done). A killed run redoes at most its current stage.

Determinism: the model is initialised after ``torch.manual_seed(spec.seed)``, datasets draw from
counter-based seeds, probe heads from seeded generators; probes and invariance always use the
model *loaded back* from ``pretrain.pt`` (a fresh process and an uninterrupted one then take the
same code path, memory format included). Wall times go to ``log.txt``, never into results, so
an interrupted-and-resumed run writes the same ``result.json`` bytes as an uninterrupted one.
Likewise ``provenance.json`` (code, libraries, host, device; see :mod:`.provenance`) and the
lease held while executing (:mod:`.lease`) sit beside the result, never inside it.

Self-healing: a ``pretrain.pt`` that does not load or a probe file that is not valid JSON (a
full disk, a partial copy) is moved to ``quarantine/`` with the reason, and that stage runs
again.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from ..data import TransformedCIFAR, Transforms2D
from ..errors import ConfigError
from ..io import atomic_write, write_json
from ..metrics import invariance
from ..models import create_model
from ..train import (
    EvalSet,
    FeatureCache,
    TrainConfig,
    finetune,
    linear_probe,
    load_checkpoint,
    save_checkpoint,
    train,
)
from ..train.stopping import STOP_REASONS
from .lease import Lease
from .provenance import write_provenance
from .spec import RunSpec, plain, probe_config, spec_hash
from .store import RESULT_FORMAT, log, quarantine, read_json

ProgressHook = Callable[[str, int, int], None]  # on_progress(stage, done, total)
PAUSE_ENV = "T2D_TEST_PAUSE_AT"  # test-only, see pause_for_tests
COMPILE_ENV = "T2D_COMPILE"  # "1": torch.compile pretraining (t2d run/reproduce --compile)


def compile_requested() -> bool:
    """Whether this process compiles its pretraining (set by ``--compile``, inherited by the
    pool's and Ray's workers; an execution setting, so never part of a spec)."""
    return os.environ.get(COMPILE_ENV, "") == "1"


def build_dataset(kwargs: Mapping[str, Any], split: str):
    """A ``Transforms2D`` (or, with ``"dataset": "cifar"``, a ``TransformedCIFAR`` read from
    where the loader finds CIFAR on this machine) from a spec's normalised arguments on
    ``split``."""
    kw = dict(kwargs)
    if kw.pop("dataset", "transforms2d") == "cifar":
        return TransformedCIFAR(**kw, split=split)
    if isinstance(kw.get("transforms"), Mapping):  # JSON keys are strings; classes are ints
        kw["transforms"] = {int(c): v for c, v in kw["transforms"].items()}
    return Transforms2D(**kw, split=split)


def pretrain(spec: RunSpec, path: Path, progress: bool = False, device: str = "cpu",
             on_epoch: Callable[[int, dict], None] | None = None):
    """Train ``spec.model`` on the source's train split (``source_val`` / ``source_test``
    evaluated after every epoch if given); save it with its history to ``path``. Returns the
    :class:`~transforms2d.train.loop.TrainResult` (with its device-side timing)."""
    cfg = TrainConfig(**spec.train, seed=spec.seed, device=device, progress=progress,
                      compile=compile_requested())
    data = build_dataset(spec.source, "train")
    val, test = (None if d is None else EvalSet.render(build_dataset(d, split))
                 for d, split in ((spec.source_val, "val"), (spec.source_test, "test")))
    torch.manual_seed(spec.seed)
    # The input side the data give, unless the spec fixes one (a ViT's position embeddings
    # depend on it); recorded with the checkpoint's kwargs, so that reloading rebuilds it.
    size = getattr(data.spec, "image_size", None)
    kwargs = {"image_size": size, **plain(spec.model_kwargs)}
    net = create_model(spec.model, num_classes=data.num_classes, **kwargs)
    res = train(net, data, cfg, val=val, test=test, model_name=spec.model, desc="pretrain",
                on_epoch=on_epoch)
    pause_for_tests("pretrain", spec_hash(spec))
    save_checkpoint(path, net, spec.model, net.model_kwargs, history=res.history,
                    final=res.final, stopped_early=res.stopped_early, stop=res.stop,
                    num_classes=data.num_classes, image_size=size)
    return res


def probe(net, target, seed: int, progress: bool = False, device: str = "cpu",
          cache: FeatureCache | None = None) -> dict:
    """Linear probe of the frozen ``net`` on one :class:`ProbeTarget` (then full fine-tuning
    from the probed model when the target asks for it): accuracies, the probe's loss curve
    (one value per epoch) and the fine-tuning's training-accuracy curve. ``cache`` reuses the
    features of data an earlier probe of the same model embedded."""
    cfg = probe_config(target.probe, seed=seed, device=device, progress=progress)
    sets = {role: None if getattr(target, role) is None else
            build_dataset(getattr(target, role), split)
            for role, split in (("train", "train"), ("val", "val"), ("test", "test"))}
    torch.manual_seed(seed)
    res = linear_probe(net, sets["train"], sets["val"], sets["test"], cfg, cache)
    out = {"train_acc": res.train_acc, "val_acc": res.val_acc, "test_acc": res.test_acc,
           "loss_curve": res.loss_curve, "acc_curve": res.acc_curve,
           **({"solver": res.solver} if res.solver is not None else {})}
    if target.finetune is not None:
        ft = TrainConfig(**target.finetune, seed=seed, device=device, progress=progress)
        evals = {role: None if sets[role] is None else EvalSet.render(sets[role])
                 for role in ("val", "test")}
        torch.manual_seed(seed)
        _, tr = finetune(net, res.head, sets["train"], ft, evals["val"], evals["test"])
        out["finetune"] = {**{k: tr.final.get(k) for k in ("train_acc", "val_acc", "test_acc")},
                           "train_acc_curve": [row["train_acc"] for row in tr.history]}
    return out


def measure(net, target, seed: int) -> dict:
    """Invariance metrics of ``net`` on one :class:`InvarianceTarget` (test split vs the twin
    that redraws its ``twin_factor``)."""
    ds = build_dataset(target.data, "test")
    return invariance(net, ds, ds.twin(target.twin_factor, target.twin_seed),
                      metrics=target.metrics, seed=seed)


class LeaseLost(RuntimeError):
    """This process's lease on the run was taken over; its result is not written."""


def execute(spec: RunSpec, run_dir: str | Path, progress: bool = False, device: str = "cpu",
            on_progress: ProgressHook | None = None, lease: Lease | None = None) -> dict:
    """Run ``spec`` in ``run_dir`` (resuming finished stages) and return its result dict.

    The caller holds the run's ``lease`` (if given, a lease lost to a takeover stops the run
    before ``result.json`` is written: :class:`LeaseLost`); ``provenance.json`` is written at
    the first start. ``on_progress(stage, done, total)`` follows the run:
    ``("pretrain", k, n)`` after epoch k of n (k = 0 at the start), ``("probe <name>", i, n)``
    before probe i of n, ``("invariance", 0, n)`` and ``("result", 0, 1)``.
    Raises whatever a stage raises (the executor records it); finished stages stay stored.
    """
    run_dir, h = Path(run_dir), spec_hash(spec)
    report = on_progress or _quiet
    run_dir.mkdir(parents=True, exist_ok=True)
    write_provenance(run_dir, device)
    net, meta = _pretrained(spec, run_dir, progress, device, report)
    probes = _probes(spec, net, run_dir, h, progress, device, report)
    report("invariance", 0, len(spec.invariance))
    t0 = time.perf_counter()
    inv = {t.name: measure(net, t, spec.seed) for t in spec.invariance}
    if spec.invariance:
        log(run_dir, f"invariance: done in {time.perf_counter() - t0:.1f}s")
    report("result", 0, 1)
    result = {"format": RESULT_FORMAT, "spec_hash": h, "spec": spec.to_dict(),
              "pretrain": {"history": meta.get("history", []),
                           "final": meta.get("final", {}),
                           "stopped_early": meta.get("stopped_early", False),
                           **{k: meta[k] for k in ("stop", "num_classes") if meta.get(k)}},
              "probes": probes, "invariance": inv}
    if lease is not None and (lease.lost or not lease.owned()):
        raise LeaseLost(f"the lease on run {h} was taken over; its result is left to the "
                        f"new holder")
    _write_result(run_dir / "result.json", result, h)  # last: marks the run done
    log(run_dir, "result: written")
    return result


def _pretrained(spec: RunSpec, run_dir: Path, progress: bool, device: str,
                report: ProgressHook):
    """The pretrained model, loaded back from ``pretrain.pt`` (trained first if missing)."""
    ckpt, n = run_dir / "pretrain.pt", spec.train["epochs"]
    loaded = _load_or_quarantine(ckpt, spec.model, run_dir)
    ckpt_reused = loaded is not None
    if ckpt_reused:
        log(run_dir, "pretrain: reusing pretrain.pt")
    else:
        t0 = time.perf_counter()
        log(run_dir, f"pretrain: start ({spec.model}, {n} epochs)")
        report("pretrain", 0, n)
        res = pretrain(spec, ckpt, progress, device,
                       on_epoch=lambda k, row: report("pretrain", k, n))
        seconds = time.perf_counter() - t0
        rate = res.samples_per_s()
        log(run_dir, f"pretrain: optimiser steps {res.timing.get('train', 0):.1f}s"
                     + (f" ({rate:.0f} samples/s)" if rate else "")
                     + f", evaluation {res.timing.get('evaluate', 0):.1f}s (timed apart on "
                       f"{device})")
    net, meta = loaded if loaded is not None else load_checkpoint(ckpt, model=spec.model)
    if not ckpt_reused:
        log(run_dir, f"pretrain: done in {seconds:.1f}s ({len(meta.get('history', []))} "
                     f"epochs" + (f", {STOP_REASONS[meta['stop']]})" if meta.get("stop")
                                  in STOP_REASONS else ")"))
    net.to(device)
    return net, meta


def _load_or_quarantine(ckpt: Path, model: str, run_dir: Path):
    """``(net, meta)`` of a stored checkpoint, or None if there is none or it does not load
    (then it is moved to ``quarantine/``)."""
    if not ckpt.exists():
        return None
    try:
        return load_checkpoint(ckpt, model=model)
    except ConfigError as e:
        quarantine(run_dir, ckpt, str(e))
        return None


def _probes(spec: RunSpec, net, run_dir: Path, h: str, progress: bool, device: str,
            report: ProgressHook) -> dict:
    """Each probe target's accuracies, reusing the ones stored by an earlier attempt; the
    probes share one :class:`FeatureCache` of the model."""
    probes, cache = {}, FeatureCache(net)
    for i, target in enumerate(spec.probes):
        path = run_dir / "probes" / f"{target.name}.json"
        stored = read_json(path)
        if isinstance(stored, dict) and stored.get("spec_hash") == h and "probe" in stored:
            probes[target.name] = stored["probe"]
            continue
        if path.exists():
            quarantine(run_dir, path, f"not a finished probe of run {h} (unreadable JSON or "
                                      f"another run's)")
        report(f"probe {target.name}", i, len(spec.probes))
        t0 = time.perf_counter()
        log(run_dir, f"probe {target.name}: start")
        before = cache.seconds
        probes[target.name] = probe(net, target, spec.seed, progress, device, cache)
        pause_for_tests("probe", h)
        write_json(path, {"spec_hash": h, "target": target.name, "probe": probes[target.name]})
        log(run_dir, f"probe {target.name}: done in {time.perf_counter() - t0:.1f}s "
                     f"(features {cache.seconds - before:.1f}s, {cache.hits} reused so far)")
    return probes


def _write_result(path: Path, result: dict, h: str) -> None:
    """``write_json`` (same bytes), with the ``result`` test pause before the rename."""
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)
            f.write("\n")
        pause_for_tests("result", h)
    atomic_write(path, write)


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def pause_for_tests(point: str, h: str) -> None:
    """TEST-ONLY hook: with ``T2D_TEST_PAUSE_AT=<point>`` in the environment, say so on stderr
    and sleep, so that a test can SIGKILL ``t2d run`` exactly there (tests/engine/test_engine.py).
    Points (comma-separated for several): ``pretrain`` (trained, ``pretrain.pt`` not yet
    written), ``probe`` (a probe computed, its ``probes/<name>.json`` not yet written) and
    ``result`` (``result.json``'s temporary file written, not yet renamed). Never set it in
    real use; unset, it costs one environment lookup."""
    if point in os.environ.get(PAUSE_ENV, "").split(","):
        print(f"{PAUSE_ENV}: paused at {point} in run {h}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("T2D_TEST_PAUSE_S", "600")))
