"""How many probe samples and views keep a linear probe from overfitting: the curve the probe
sizes of the ``cpu`` profile are chosen from (docs/cpu-profile.md, "Linear probes").

For each model (the seed-0 pretraining runs of a profile's grid that the main comparisons
use: E1's default same / disjoint pair, E2's C/C and C+O/C fixed-placement models, E4's first
and last nested sets), pretrain it once into ``--cache`` (reused on a rerun), then fit the
L-BFGS probe (:func:`transforms2d.train.logistic.fit_logistic`) on ``n`` samples x ``views``
cached views of the model's target task and record training and test accuracy, the solver's
convergence and the seconds spent embedding and solving. Only probe accuracies on the probe's
own data are read, never a claim's verdict.

    python benchmarks/probe_size_curve.py --profile cpu --n 1000,2000,5000,10000 --views 1,2
    python benchmarks/probe_size_curve.py --report probe-curve.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def models(profile: str) -> dict[str, tuple]:
    """name -> (RunSpec to pretrain, the ProbeTarget whose task is probed)."""
    from transforms2d.study import e1, e2, e4

    out = {}
    for c in e1.cells(e1.SIZES[profile], 1):
        if c.axis == "classes" and c.value == "disjoint":
            out[f"e1 default {c.family}"] = (c.spec, _probe(c.spec, c.probe))
    for c in e2.cells(e2.SIZES[profile], 1):
        if c.axis == "tasks" and c.variant == "fixed" and c.value in ("C/C", "C+O/C"):
            out[f"e2 {c.value} on C+O/O"] = (c.spec, _probe(c.spec, "fixed.CO_O"))
    sizes = e4.SIZES[profile]
    k = sizes.k
    for c in e4.cells(sizes, 1):
        if c.k in (1, k) and c.epochs == sizes.epochs:
            out[f"e4 k={c.k} on t{k}"] = (c.spec, _probe(c.spec, e4.probe_name(k)))
    return out


def _probe(spec, name: str):
    return next(p for p in spec.probes if p.name == name)


def pretrained(spec, cache: Path):
    from transforms2d.engine import spec_hash
    from transforms2d.engine.run import pretrain
    from transforms2d.train import load_checkpoint

    path = cache / f"{spec_hash(spec)}.pt"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        pretrain(spec, path)
        print(f"  pretrained in {time.perf_counter() - t0:.0f}s", flush=True)
    net, meta = load_checkpoint(path, model=spec.model)
    return net, meta


def curve(name: str, spec, target, sizes, views, cache: Path) -> list[dict]:
    import torch

    from transforms2d.engine.run import build_dataset
    from transforms2d.metrics import macro_accuracy
    from transforms2d.train import FeatureCache
    from transforms2d.train.logistic import fit_logistic

    net, meta = pretrained(spec, cache)
    fc = FeatureCache(net)
    test = build_dataset(target.test, "test")
    ft, yt = fc.features(test, 0)
    rows = []
    for n in sizes:
        train = build_dataset({**target.train, "n": n}, "train")
        for v in views:
            t0 = time.perf_counter()
            parts = [fc.features(train, e) for e in range(v)]
            t_feat = time.perf_counter() - t0
            f = torch.cat([p[0] for p in parts])
            y = torch.cat([p[1] for p in parts])
            t0 = time.perf_counter()
            w, b, info = fit_logistic(f, y, train.num_classes)
            t_fit = time.perf_counter() - t0
            k = train.num_classes
            tr = macro_accuracy((parts[0][0] @ w.t() + b).argmax(1), parts[0][1], k)
            te = macro_accuracy((ft @ w.t() + b).argmax(1), yt, k)
            row = {"model": name, "n": n, "views": v, "train_acc": tr, "test_acc": te,
                   "gap": tr - te, "features_s": t_feat, "solve_s": t_fit,
                   "pretrain_train_acc": meta["final"].get("train_acc"), **info.to_dict()}
            print(f"  n={n} views={v}: train {tr:.3f} test {te:.3f} gap {tr - te:+.3f} "
                  f"({info.iterations} it, |g| {info.grad_max:.1e}, {t_fit:.1f}s)", flush=True)
            rows.append(row)
    return rows


def report(rows: list[dict]) -> str:
    lines = ["| model | n | views | probe train | probe test | gap | L-BFGS iterations | "
             "converged | solve (s) |", "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['n']} | {r['views']} | {r['train_acc']:.3f} | "
                     f"{r['test_acc']:.3f} | {r['gap']:+.3f} | {r['iterations']} | "
                     f"{r['converged']} | {r['solve_s']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--n", default="1000,2000,5000,10000")
    ap.add_argument("--views", default="1,2")
    ap.add_argument("--only", default="", help="comma list of model-name prefixes")
    ap.add_argument("--cache", type=Path, default=Path("probe-curve-models"))
    ap.add_argument("--out", type=Path, default=Path("probe-curve.json"))
    ap.add_argument("--report", type=Path, help="print the table of a saved curve and exit")
    args = ap.parse_args()
    if args.report:
        print(report(json.loads(args.report.read_text())))
        return
    import torch

    torch.set_num_threads(1)
    sizes = [int(x) for x in args.n.split(",")]
    views = [int(x) for x in args.views.split(",")]
    only = [p for p in args.only.split(",") if p]
    rows = json.loads(args.out.read_text()) if args.out.exists() else []
    for name, (spec, target) in models(args.profile).items():
        if only and not any(name.startswith(p) for p in only):
            continue
        print(name, flush=True)
        rows += curve(name, spec, target, sizes, views, args.cache)
        args.out.write_text(json.dumps(rows, indent=1))
    print(report(rows))


if __name__ == "__main__":
    main()
