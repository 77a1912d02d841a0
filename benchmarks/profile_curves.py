"""Training curves of candidate model/data sizes, the evidence the CPU profile is sized from.

For each candidate (an experiment's hardest or most frequent pretraining task at a given model,
sample count and batch size), pretrain one seed for up to ``--epochs`` epochs and record, per
epoch, the training accuracy (macro, on the epoch's fresh augmentations), the accuracy on a
fixed validation split and the wall time; then linear-probe the model and record whether the
probe's loss has converged. Candidates run in parallel one-thread processes (as the pool
executor runs them). Only curves and times are read here, never a claim's verdict.

    python benchmarks/profile_curves.py --group e1 --epochs 40 --out curves.json
    python benchmarks/profile_curves.py --report curves.json      # the Markdown table
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from pathlib import Path


def candidates(group: str) -> dict[str, tuple[str, dict, int]]:
    """name -> (model, source Transforms2D kwargs, batch size); objects and transforms are the
    seed-0 draws of each experiment (transforms2d.study)."""
    from transforms2d.study import e1, e2, e3, e4

    d1, d4, d3 = e1.draw(0, 30), e4.draw(0), e3.draw(0)
    out: dict[str, tuple[str, dict, int]] = {}
    if group == "e1":
        for k in (10, 30):
            d = e1.draw(0, k)
            for fam in ("same", "disjoint"):
                ts = d["target"] if fam == "same" else d["disjoint"]
                for model, n in (("convnet_xs", 3000), ("convnet_s", 6000),
                                 ("resnet_s", 6000)):
                    if k == 10 and model != "convnet_xs":
                        continue
                    out[f"e1 {k}cls {fam} {model} n{n}"] = (
                        model, dict(objects=d["other_objects"], transforms=ts, n=n), 128)
    elif group == "e1arch":
        d = d1
        for model in ("densenet_s", "vit_s", "vgg_s"):
            out[f"e1 30cls disjoint {model} n6000"] = (
                model, dict(objects=d["other_objects"], transforms=d["disjoint"], n=6000), 128)
        for n in (750, 1500):
            out[f"e1 30cls disjoint convnet_s n{n}"] = (
                "convnet_s", dict(objects=d["other_objects"], transforms=d["disjoint"], n=n), 128)
    elif group == "e4":
        for k in (6, 8):
            for model, n in (("resnet_s", 3000), ("resnet_s", 6000), ("convnet_s", 6000)):
                out[f"e4 k{k} 10obj {model} n{n}"] = (
                    model, dict(objects=d4["objects"][:10], transforms=d4["transforms"][:k],
                                n=n), 128)
        out["e4 k8 30obj resnet_s n6000"] = (
            "resnet_s", dict(objects=d4["objects"], transforms=d4["transforms"], n=6000), 128)
    elif group == "e2":
        objs = e2.draw(0)["objects"]
        for task, extra in (("C/C", dict(class_from="background", object_availability=0.0)),
                            ("C+O/C", dict(class_from="background")),
                            ("C+O/O", dict(class_from="object")),
                            ("O/O", dict(class_from="object", backgrounds="black"))):
            for model in ("convnet_s", "resnet_s"):
                out[f"e2 {task} {model} n6000"] = (model, dict(
                    objects=objs, n=6000, background_pack="objects", object_scale=0.375,
                    object_position="corner", **extra), 128)
    elif group == "e4long":
        for seed in (0, 1):
            d = e4.draw(seed)
            for k in (5, 6):
                out[f"e4 seed{seed} k{k} 10obj resnet_s n6000"] = (
                    "resnet_s", dict(objects=d["objects"][:10], transforms=d["transforms"][:k],
                                     n=6000), 128)
        out["e4 seed0 k6 10obj resnet_s n6000 b64"] = (
            "resnet_s", dict(objects=d4["objects"][:10], transforms=d4["transforms"][:6],
                             n=6000), 64)
    elif group == "e3":
        for t in ("none", "translate", "erasing", "elastic", "noise", "rotate"):
            for kind, extra in (("img", dict(objects=d3["primary"])),
                                ("rand", dict(objects=list(range(30)), assets="random",
                                              backgrounds="random"))):
                out[f"e3 {kind} {t} convnet_xs n3000"] = (
                    "convnet_xs", dict(transforms=[] if t == "none" else [t], n=3000, **extra),
                    64)
    return out


# (batch, epochs) of the probes fitted on each model: the steps a probe needs to converge
PROBES = ((512, 300), (128, 300), (64, 600), (32, 1000))


def one(args: tuple) -> dict:
    name, (model, data, batch), epochs, probe_n, probe_epochs = args
    import torch

    from transforms2d import Transforms2D
    from transforms2d.models import create_model
    from transforms2d.train import EvalSet, ProbeConfig, linear_probe, recipe_for, train

    torch.set_num_threads(1)
    src = Transforms2D(**data, split="train", seed=0)
    val = EvalSet.render(src.with_split("val", 600))
    torch.manual_seed(0)
    net = create_model(model, num_classes=src.num_classes)
    cfg = recipe_for(model, epochs=epochs, batch_size=batch, progress=False)
    rows, t0 = [], time.perf_counter()
    res = train(net, src, cfg, val=val,
                on_epoch=lambda k, row: rows.append({**row, "seconds": time.perf_counter() - t0}))
    probe_src, probe_test = src.with_split("train", probe_n), src.with_split("test", 1000)
    probes = []
    for pb, pe in PROBES:
        probe = linear_probe(net, probe_src, None, probe_test,
                             ProbeConfig(solver="adam", epochs=pe, batch_size=pb, views=1,
                                         progress=False))
        probes.append({"n": probe_n, "batch": pb, "epochs": pe, "test_acc": probe.test_acc,
                       "train_acc": probe.train_acc, "loss_curve": probe.loss_curve})
    return {"name": name, "model": model, "n": data["n"], "batch": batch,
            "classes": src.num_classes, "history": rows, "final": res.final, "probes": probes}


def converged(curve: list[float]) -> str:
    """The probe-convergence precondition on ``curve``: relative and absolute change over the
    last 10% of epochs, the final loss, and whether it counts as converged."""
    from transforms2d.study.preconditions import PROBE_WINDOW, loss_change

    rel, ok = loss_change(curve)
    k = max(2, round(len(curve) * PROBE_WINDOW))
    tail = curve[-k:]
    diff = sum(tail[:k // 2]) / (k // 2) - sum(tail[k // 2:]) / (k - k // 2)
    return f"{rel:.1%} / {diff:.4f} (loss {curve[-1]:.4f}) {'ok' if ok else 'NOT converged'}"


def report(path: Path) -> None:
    rows = json.loads(path.read_text())
    print("| candidate | classes | s/epoch | epoch >= 0.95 train | >= 0.99 | best train | "
          "val at best | probes (batch x epochs: test acc, loss change over the last 10%) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        h = r["history"]
        per = h[-1]["seconds"] / len(h)
        first = {t: next((x["epoch"] + 1 for x in h if x["train_acc"] >= t), None)
                 for t in (0.95, 0.99)}
        best = max(h, key=lambda x: x["train_acc"])
        probes = r.get("probes") or [r["probe"]]
        text = "; ".join(f"{p.get('batch', 512)}x{p['epochs']}: {p['test_acc']:.3f}, "
                         f"{converged(p['loss_curve'])}" for p in probes)
        print(f"| {r['name']} | {r['classes']} | {per:.1f} | {first[0.95] or '-'} | "
              f"{first[0.99] or '-'} | {best['train_acc']:.3f} | {best['val_acc']:.3f} | "
              f"{text} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--group", choices=["e1", "e1arch", "e3", "e4", "e4long", "e2"])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--probe-n", type=int, default=500)
    ap.add_argument("--probe-epochs", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--report", type=Path)
    args = ap.parse_args()
    if args.report:
        report(args.report)
        return
    jobs = [(name, c, args.epochs, args.probe_n, args.probe_epochs)
            for name, c in candidates(args.group).items()]
    with mp.get_context("spawn").Pool(args.workers) as pool:
        results = []
        for r in pool.imap_unordered(one, jobs):
            results.append(r)
            print(f"{r['name']}: final train {r['final']['train_acc']:.3f}, "
                  f"{r['history'][-1]['seconds']:.0f}s", flush=True)
            args.out.write_text(json.dumps(results, indent=1))
    report(args.out)


if __name__ == "__main__":
    main()
