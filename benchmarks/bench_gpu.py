"""The one device script: what the paper path achieves on this accelerator (≤ 5 min on a GPU).

1. Generator samples/s at 32 px per transform, rendered on the device (goal on a GPU: ≥ 1M/s
   harmonic mean over the 18).
2. ResNet-18 training samples/s (channels-last, bf16 autocast on CUDA) and the achieved
   TFLOP/s (FLOPs counted by ``torch.utils.flop_counter`` on one batch, × 3 for forward +
   backward) against the device's bf16 peak (a table of known GPUs, or ``--peak-tflops``).
3. The share of a training step spent rendering its batch (render + step, timed apart).
4. One paper-size E4 run (ResNet-18, 50,000 samples, ``--e4-epochs`` epochs, 8 probes) timed
   end to end through the engine.
5. ``t2d plan``'s calibration of every architecture of the ``gpu`` and ``paper`` profiles on
   this device, and both plans' estimates from it: whether ``gpu`` fits its hour, measured.
   The calibration is copied to ``--out``/calibration.json, so that ``t2d plan --profile gpu
   --device cuda --calibration calibration.json`` gives the same estimate on any machine.

Writes ``--out``/bench_gpu.json and bench_gpu.md. Runs on CPU too (``--small`` shrinks every
size; the test suite runs it that way):

    python benchmarks/bench_gpu.py --device cuda --out bench-gpu
    python benchmarks/bench_gpu.py --device cpu --small --out /tmp/bench-gpu
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_generator import machine  # noqa: E402

from transforms2d import Transforms2D  # noqa: E402
from transforms2d.engine import RunStore, execute, spec_hash  # noqa: E402
from transforms2d.models import create_model  # noqa: E402
from transforms2d.study.e4 import cells  # noqa: E402
from transforms2d.study.e4.grid import SIZES  # noqa: E402
from transforms2d.transforms import PAPER_TRANSFORMS  # noqa: E402

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0,
                    "A10": 125.0, "4090": 165.0, "V100": 125.0}  # dense, vendor figures


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, reps: int) -> float:
    fn()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / reps


def generator(device: str, batch: int, reps: int) -> dict[str, float]:
    out = {}
    for name in PAPER_TRANSFORMS:
        ds = Transforms2D(objects=10, transforms=[name], n=batch, device=device)
        idx = torch.arange(batch, device=device)
        out[name] = batch / timed(lambda ds=ds, idx=idx: ds.render(idx), device, reps)
    return out


def training(device: str, batch: int, reps: int) -> dict[str, float]:
    from torch.utils.flop_counter import FlopCounterMode

    net = create_model("resnet18", num_classes=10).to(device).to(
        memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters())
    ds = Transforms2D(objects=10, transforms=["rotate", "hue"], n=batch, device=device)
    idx = torch.arange(batch, device=device)
    x, y = ds.render(idx)
    x = x.contiguous(memory_format=torch.channels_last)
    cast = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else \
        torch.autocast("cpu", enabled=False)

    def step() -> None:
        with cast:
            loss = torch.nn.functional.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    with FlopCounterMode(display=False) as counter:
        net(x[:1])
    flops = counter.get_total_flops() * 3  # per sample: forward + backward
    t_step = timed(step, device, reps)
    t_render = timed(lambda: ds.render(idx), device, reps)
    return {"samples_per_s": batch / t_step, "tflops": flops * batch / t_step / 1e12,
            "flops_per_sample": flops, "render_share": t_render / (t_render + t_step)}


def e4_run(device: str, epochs: int, small: bool) -> dict[str, float]:
    sizes = dataclasses.replace(SIZES["paper"], epochs=epochs)
    if small:
        sizes = dataclasses.replace(sizes, model="convnet_xs", n=600, n_val=100, n_probe=200,
                                    n_test=100, k=3)
    spec = cells(sizes, 1)[-1].spec  # the largest pretraining set
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        t0 = time.perf_counter()
        execute(spec, store.prepare(spec), device=device)
        sync(device)
        return {"seconds": time.perf_counter() - t0, "model": spec.model,
                "samples": spec.source["n"], "epochs": spec.train["epochs"],
                "probes": len(spec.probes), "hash": spec_hash(spec)}


def plan_estimates(device: str, profiles: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Estimated minutes per paper experiment of each profile, at throughputs measured now
    on ``device`` (``t2d plan``'s calibration, cached in ``$T2D_CACHE/calibration.json``)."""
    from transforms2d.engine import unique
    from transforms2d.engine.plan import costs, seconds, throughputs
    from transforms2d.study import get_experiment, paper_experiments
    from transforms2d.study.reproduce import DEFAULT_SEEDS

    out = {}
    for prof in profiles:
        grid = {name: costs(unique(get_experiment(name).specs(prof, DEFAULT_SEEDS[prof])))
                for name in paper_experiments()}
        keys = set().union(*(c.architectures() for c in grid.values()))
        speed = throughputs(keys, device)
        out[prof] = {name: sum(seconds(c, speed).values()) / 60 for name, c in grid.items()}
    return out


def peak(device: str, given: float | None) -> float | None:
    if given:
        return given
    if not device.startswith("cuda"):
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def markdown(res: dict) -> str:
    gen = res["generator"]
    hm = len(gen) / sum(1 / v for v in gen.values())
    tr, e4 = res["training"], res["e4"]
    lines = [f"# bench_gpu ({res['date']}, {res['device']}: {res['device_name']})", "",
             f"Machine: {res['machine']}", "",
             f"Generator at 32 px, batch {res['batch']}: harmonic mean **{hm:,.0f}** "
             f"samples/s over {len(gen)} transforms (goal on a GPU: 1,000,000).", "",
             "| transform | samples/s |", "|---|---:|"]
    lines += [f"| {k} | {v:,.0f} |" for k, v in gen.items()]
    frac = "" if res["peak_tflops"] is None else \
        f" = {tr['tflops'] / res['peak_tflops']:.1%} of the {res['peak_tflops']:.0f} TFLOP/s peak"
    lines += ["", f"ResNet-18 training: **{tr['samples_per_s']:,.0f}** samples/s, "
              f"{tr['tflops']:.2f} TFLOP/s achieved{frac}; rendering a batch is "
              f"{tr['render_share']:.1%} of render + step.", "",
              f"E4 run ({e4['model']}, {e4['samples']} samples × {e4['epochs']} epochs, "
              f"{e4['probes']} probes) end to end: **{e4['seconds']:.1f} s**.", "",
              "t2d plan at the throughputs measured here (serial, pretraining to its epoch "
              "cap; minutes):", "", "| profile | " + " | ".join(_names(res)) + " | all |",
              "|---|" + "---:|" * (len(_names(res)) + 1)]
    for prof, per in res["plan_minutes"].items():
        lines.append(f"| {prof} | " + " | ".join(f"{v:.1f}" for v in per.values())
                     + f" | **{sum(per.values()):.1f}** |")
    return "\n".join(lines) + "\n"


def _names(res: dict) -> list[str]:
    return list(next(iter(res["plan_minutes"].values()), {}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", type=Path, default=Path("bench-gpu"))
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--e4-epochs", type=int, default=2)
    ap.add_argument("--peak-tflops", type=float, default=None)
    ap.add_argument("--small", action="store_true", help="tiny sizes (CPU, tests)")
    args = ap.parse_args()
    batch = args.batch or (64 if args.small else 4096)
    reps = args.reps or (1 if args.small else 10)
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "device": args.device,
           "device_name": torch.cuda.get_device_name() if args.device.startswith("cuda")
           else "cpu", "machine": machine(), "batch": batch,
           "peak_tflops": peak(args.device, args.peak_tflops)}
    res["generator"] = generator(args.device, batch, reps)
    res["training"] = training(args.device, min(batch, 512), reps)
    res["e4"] = e4_run(args.device, args.e4_epochs, args.small)
    res["plan_minutes"] = plan_estimates(args.device, ("smoke",) if args.small else
                                         ("gpu", "paper"))
    args.out.mkdir(parents=True, exist_ok=True)
    from transforms2d.engine.plan import cache_path
    (args.out / "calibration.json").write_bytes(cache_path().read_bytes())
    (args.out / "bench_gpu.json").write_text(json.dumps(res, indent=1))
    md = markdown(res)
    (args.out / "bench_gpu.md").write_text(md)
    print(md)
    assert all(math.isfinite(v) for v in res["generator"].values())


if __name__ == "__main__":
    main()
