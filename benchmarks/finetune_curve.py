"""Full fine-tuning curves of E1's default pair: how many epochs the fine-tuned models need to
reach the fine-tuning precondition (docs/cpu-profile.md, "Full fine-tuning").

For each seed and family (E1's default ``same`` / ``disjoint`` runs of a profile), pretrain the
model once into ``--cache`` (shared with ``probe_size_curve.py``), fit the probe of the C5
target (the profile's fine-tuning samples), then fine-tune all weights from the probed model
for each of ``--epochs`` (Adam, linear decay to 0 over the whole run, as the experiment does)
and record the training accuracy of every epoch and the final validation / test accuracy.
Only fine-tuning curves are read here, never a claim's verdict.

    python benchmarks/finetune_curve.py --profile cpu --seeds 0,4 --epochs 20,50,100
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def default_runs(profile: str, seeds: list[int]):
    """``(seed, family, spec, fine-tuning target)`` of E1's default pair."""
    from transforms2d.study import e1

    name = e1.finetune_name(e1.SIZES[profile])
    for c in e1.cells(e1.SIZES[profile], max(seeds) + 1):
        if c.seed in seeds and c.axis == "classes" and c.value == "disjoint":
            yield c.seed, c.family, c.spec, next(p for p in c.spec.probes if p.name == name)


def curve(spec, target, epochs: int, cache: Path) -> dict:
    import torch
    from probe_size_curve import pretrained

    from transforms2d.engine.run import build_dataset
    from transforms2d.engine.spec import probe_config
    from transforms2d.train import EvalSet, TrainConfig, finetune, linear_probe

    net, _ = pretrained(spec, cache)
    sets = {r: build_dataset(getattr(target, r), r) for r in ("train", "test")}
    val = build_dataset({**target.test, "seed": target.test["seed"] + 1}, "val")
    probe = linear_probe(net, sets["train"], None, sets["test"],
                         probe_config(target.probe, progress=False))
    ft = {**dict(target.finetune), "epochs": epochs}
    cfg = TrainConfig(**ft, seed=spec.seed, progress=False)
    torch.manual_seed(spec.seed)
    t0 = time.perf_counter()
    _, res = finetune(net, probe.head, sets["train"], cfg, EvalSet.render(val),
                      EvalSet.render(sets["test"]))
    return {"epochs": epochs, "probe_test_acc": probe.test_acc,
            "train_acc_curve": [row["train_acc"] for row in res.history],
            "val_acc": res.final.get("val_acc"), "test_acc": res.final.get("test_acc"),
            "seconds": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--epochs", default="20,50,100")
    ap.add_argument("--cache", type=Path, default=Path("probe-curve-models"))
    ap.add_argument("--out", type=Path, default=Path("finetune-curve.json"))
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rows = []
    for seed, fam, spec, target in default_runs(args.profile,
                                                [int(s) for s in args.seeds.split(",")]):
        for e in (int(x) for x in args.epochs.split(",")):
            row = {"seed": seed, "family": fam, **curve(spec, target, e, args.cache)}
            c = row["train_acc_curve"]
            print(f"seed {seed} {fam} {e} epochs: train {c[-1]:.3f} (first >= 0.95 at "
                  f"{next((i + 1 for i, a in enumerate(c) if a >= 0.95), '-')}), val "
                  f"{row['val_acc']:.3f}, test {row['test_acc']:.3f}, {row['seconds']:.0f}s",
                  flush=True)
            rows.append(row)
            args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
