"""``t2d plan``: what an experiment will cost, before it runs.

Per experiment: the runs, the sample-steps of each stage read from the run specs — pretraining
``n × epochs`` (an upper bound: early stop at the accuracy ceiling ends runs sooner) plus its
per-epoch evaluation, each probe's feature extraction ``n × views`` (+ its test set; the head's
epochs on cached features are negligible), full fine-tuning ``n × epochs``, invariance ``2 × n``
— and the wall time they take at a throughput **measured** on this device for every
(architecture, image size): a few timed training steps and forward passes, cached per machine
in ``$T2D_CACHE/calibration.json`` (default ``~/.cache/transforms2d``). Runs already done in an
``--out`` folder are left out. The estimate is serial on one device.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..models import create_model
from ..train.loop import autocast
from .spec import RunSpec

STAGES = ("pretrain", "evaluate", "probe", "finetune", "invariance")
TRAIN_STAGES = ("pretrain", "finetune")


@dataclass
class Cost:
    """Sample-steps per stage and architecture key ``(model, image_size, kwargs)``."""

    runs: int = 0
    samples: dict[str, dict[tuple, int]] = field(
        default_factory=lambda: {s: {} for s in STAGES})

    def add(self, stage: str, key: tuple, n: int) -> None:
        self.samples[stage][key] = self.samples[stage].get(key, 0) + int(n)

    def total(self, stage: str) -> int:
        return sum(self.samples[stage].values())

    def architectures(self) -> set[tuple]:
        """The architecture keys with sample-steps in any stage (what needs a throughput)."""
        return {k for per in self.samples.values() for k in per}


def _key(spec: RunSpec, size: int) -> tuple:
    return (spec.model, int(size), json.dumps(dict(spec.model_kwargs), sort_keys=True))


def _n(data: Mapping | None) -> int:
    return 0 if data is None else int(data.get("n") or 0)


def run_cost(spec: RunSpec, cost: Cost) -> None:
    """Add one run's sample-steps to ``cost``."""
    size = spec.source.get("image_size", 32)
    key = _key(spec, size)
    epochs = int(spec.train["epochs"])
    cost.runs += 1
    cost.add("pretrain", key, _n(spec.source) * epochs)
    cost.add("evaluate", key, (_n(spec.source_val) + _n(spec.source_test)) * epochs)
    for p in spec.probes:
        views = int(p.probe.get("views", 1))
        cost.add("probe", key, _n(p.train) * views + _n(p.test) + _n(p.val))
        if p.finetune is not None:
            cost.add("finetune", key, _n(p.train) * int(p.finetune["epochs"]))
    for t in spec.invariance:
        cost.add("invariance", key, 2 * _n(t.data))


def costs(specs: Iterable[RunSpec]) -> Cost:
    out = Cost()
    for s in specs:
        run_cost(s, out)
    return out


# -- measured throughput -------------------------------------------------------------------
def cache_path() -> Path:
    root = os.environ.get("T2D_CACHE") or Path.home() / ".cache" / "transforms2d"
    return Path(root) / "calibration.json"


def machine_key(device: str) -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name() if device.startswith("cuda") else ""
    return f"{platform.node()}|{cpu}|{os.cpu_count()}|{gpu}|torch {torch.__version__}|" \
           f"{torch.get_num_threads()} threads|{device}"


def measure(key: tuple, device: str, batch: int = 128, steps: int = 3) -> dict[str, float]:
    """Training samples/s (forward + backward + Adam) and inference samples/s of one
    architecture at its image size: one warm-up step, then ``steps`` timed."""
    import torch

    dev = torch.device(device)
    model, size, kwargs = key[0], key[1], json.loads(key[2])
    net = create_model(model, num_classes=10, **{"image_size": size, **kwargs}).to(device)
    net = net.to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, size, size, device=device).contiguous(
        memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    opt = torch.optim.Adam(net.parameters())

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def train_step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast(dev):  # as the training loop does: bf16 on CUDA
            loss = torch.nn.functional.cross_entropy(net(x).float(), y)
        loss.backward()
        opt.step()

    def infer_step() -> None:
        with autocast(dev):
            net(x)

    def timed(fn: Callable[[], None]) -> float:
        fn()
        sync()
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        sync()
        return batch * steps / (time.perf_counter() - t0)

    net.train()
    train = timed(train_step)
    net.eval()
    with torch.no_grad():
        infer = timed(infer_step)
    return {"train": train, "infer": infer}


def throughputs(keys: Iterable[tuple], device: str,
                measure_fn: Callable[[tuple, str], dict] = measure,
                on_measure: Callable[[tuple], None] = lambda k: None) -> dict[tuple, dict]:
    """Measured samples/s per architecture key, from the cache or measured now (and cached)."""
    path = cache_path()
    try:
        cache = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    mine = cache.setdefault(machine_key(device), {})
    out, changed = {}, False
    for key in sorted(set(keys)):
        name = key_name(key)
        if name not in mine:
            on_measure(key)
            mine[name] = measure_fn(key, device)
            changed = True
        out[key] = mine[name]
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cache, indent=1, sort_keys=True))
    return out


def key_name(key: tuple) -> str:
    return "|".join(map(str, key))


def calibrated(path: Path, keys: Iterable[tuple], device: str) -> tuple[str, dict[tuple, dict]]:
    """Throughputs measured on another machine: the entry of calibration file ``path`` (this
    cache's format: written by ``t2d plan`` or ``benchmarks/bench_gpu.py`` there) whose
    device is ``device``. Returns ``(machine key, {key: speeds})``; every architecture in
    ``keys`` must be in it."""
    try:
        cache = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"Cannot read the calibration file {path}: {e}.") from None
    devices = {m: m.rsplit("|", 1)[-1] for m in cache}  # a machine key ends with its device
    found = sorted(m for m, d in devices.items() if d == device and isinstance(cache[m], dict))
    if not found:
        raise ConfigError(f"{path} has no throughput measured on '{device}' (it has: "
                          f"{', '.join(devices.values()) or 'none'}).")
    mine, names = cache[found[-1]], {k: key_name(k) for k in set(keys)}
    missing = sorted(n for n in names.values() if n not in mine)
    if missing:
        raise ConfigError(f"{path} lacks throughputs for {', '.join(missing)}; measure them "
                          f"there with t2d plan ... --device {device}.")
    return found[-1], {k: mine[n] for k, n in names.items()}


def seconds(cost: Cost, speed: Mapping[tuple, dict]) -> dict[str, float]:
    """Estimated wall seconds per stage (serial on one device)."""
    out = {}
    for stage in STAGES:
        kind = "train" if stage in TRAIN_STAGES else "infer"
        out[stage] = sum(n / speed[k][kind] for k, n in cost.samples[stage].items() if n)
    return out
