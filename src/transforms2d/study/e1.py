"""``e1``: invariance versus other factors (docs/protocol.md §6 E1; claims C1–C5, §7).

Per seed, two distinct transforms are drawn from each group (geometric, photometric,
corruption); the first of each pair forms the **target** set, the second the **disjoint** set.
The pack's first 60 objects are put in a seeded random order: the first 30 are the target
classes, the next 30 the "other" classes (10 + 10 in the quick profile). The target task is the
target objects under the target transforms, solved by a linear probe on frozen features.

Two families of models, ``same`` (pretrained with the target transforms) and ``disjoint``
(with the disjoint ones), pretrain by default on the other objects. Four axes are varied one
at a time around that default: class relationship (subset / disjoint / same / superset),
architecture, pretraining samples and fine-tuning (probe) samples (pretraining on the target
classes). A configuration reached from two axes is one run spec, computed once.

The default run (both families) is also probed with the largest fine-tuning size and then fully
fine-tuned from the probed model (claim C5). Profiles change sizes only (``SIZES``).

**CIFAR variant** (cells added only where :func:`~transforms2d.data.cifar.cifar_available` finds
the data): the seed's same target / disjoint transforms on whole CIFAR-10 / CIFAR-100 images
(:class:`~transforms2d.data.TransformedCIFAR`); the target task is half of the classes (5 of
CIFAR-10, 50 of CIFAR-100, a seeded order), models pretrain by default on the other half. Axes
class relationship, architecture, pretraining samples (``CIFAR_SIZES``); results are the table
rows ``cifar10:<axis>`` / ``cifar100:<axis>`` and the check ``C1-C3 CIFAR-10`` / ``-100``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..assets.cifar import FORMATS, cifar_available
from ..engine import ProbeTarget, RunSpec, register_experiment, unique
from ..engine.spec import train_settings
from ..engine.stats import mean_ci, positive_effect
from ..transforms import CORRUPTION, GEOMETRIC, PHOTOMETRIC
from .common import (
    CI_COLUMNS,
    ci_row,
    claim,
    describe_sizes,
    half_width,
    match,
    new_figure,
    paired,
    put,
    seeds_in,
    seeds_title,
    sizes_markdown,
)

N_OBJECTS, N_TARGET = 60, 30
SEED_TAG = 0xE1  # mixed into the per-seed generator that draws transforms and objects

SIZES = {  # profile -> sizes; the logic is the same for all three
    "paper": dict(model="resnet18", image_size=32, n_target=N_TARGET, n=50000, epochs=50,
                  batch_size=512,
                  n_probe=50000, n_test=10000, probe_epochs=200, views=2,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                  pt_samples=(1000, 10000, 50000, 100000, 500000),
                  ft_samples=(50, 200, 500, 2000, 5000),
                  finetune=dict(n=2000, epochs=50, batch_size=512)),
    # quick (2-core CPU): 10 target + 10 other objects instead of 30 + 30, and convnet_xs (a
    # bias-free VGG-style CNN, 25k parameters) in place of ResNet-18; on the architecture axis it
    # stands for the VGG family beside resnet_s / densenet_s / vit_s. 3000 samples x 10 epochs.
    # Chosen from pretraining accuracy and the time budget (E1 <= 10 min on 2 cores): with 30
    # classes convnet_xs stayed at 0.2-0.4 training accuracy at this cost (undertrained models
    # learn little invariance), with 10 it reaches 0.8-0.95 (README, Results).
    "quick": dict(model="convnet_xs", image_size=32, n_target=10, n=3000, epochs=10,
                  batch_size=256, n_probe=500, n_test=2000, probe_epochs=300, views=1,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("convnet_xs", "resnet_s", "densenet_s", "vit_s"),
                  pt_samples=(750, 1500, 3000, 6000),
                  ft_samples=(50, 200, 500, 2000),
                  finetune=dict(n=2000, epochs=10, batch_size=128)),
    "smoke": dict(model="convnet_xs", image_size=16, n_target=N_TARGET, n=300, epochs=1,
                  batch_size=64,
                  n_probe=60, n_test=60, probe_epochs=10, views=1,
                  classes=("disjoint", "same"),
                  models=("convnet_xs", "convnet_s"),
                  pt_samples=(150, 300),
                  ft_samples=(30, 60),
                  finetune=dict(n=60, epochs=1, batch_size=32)),
}
FAMILIES = ("same", "disjoint")
AXES = ("classes", "architecture", "pt_samples", "ft_samples")
AXIS_LABEL = {"classes": "class relationship", "architecture": "architecture",
              "pt_samples": "pretraining samples", "ft_samples": "fine-tuning samples"}
PROBE_SEED_OFFSET = 10_000  # probe data use their own rendering seeds, never the source's

# -- CIFAR variant sizes. Pretraining samples are totals over the default pretraining classes
# (half of them) and become a per-class count, which the class-relationship runs keep: CIFAR has
# 4,500 training images per CIFAR-10 class and 450 per CIFAR-100 class, too few for a fixed
# total on the 2-class subset. The paper values are all of those images (22,500 = 5 x 4,500 =
# 50 x 450). Quick, timed on synthetic archives in the real format (one thread, busy machine):
# convnet_xs 4-5 s a run (superset 10 s), resnet_s 12 s; ~37 CPU-s per dataset, family and
# seed, so ~7.5 CPU-min for both datasets x 3 seeds. Accuracies there say nothing (noise images).
CIFAR = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
CIFAR_AXES = ("classes", "architecture", "pt_samples")
CIFAR_SIZES = {
    "paper": dict(model="resnet18", n=22500, epochs=50, batch_size=512, n_probe=22500,
                  n_test=5000, probe_epochs=200, views=2,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                  pt_samples=(1000, 5000, 10000, 22500)),
    "quick": dict(model="convnet_xs", n=2000, epochs=5, batch_size=128, n_probe=1000,
                  n_test=1000, probe_epochs=100, views=1,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("convnet_xs", "resnet_s"), pt_samples=(500, 2000)),
    "smoke": dict(model="convnet_xs", n=50, epochs=1, batch_size=32, n_probe=50, n_test=50,
                  probe_epochs=5, views=1, classes=("disjoint", "same"),
                  models=("convnet_xs", "convnet_s"), pt_samples=(50, 100)),
}
CIFAR_MISSING = "not run: CIFAR not available"

# docs/protocol.md §6 E1, the authors' values (ResNet-18, linear probe, 10 seeds).
AUTHORS = {
    "gap": "0.12 to 0.15 (same ~0.98 vs disjoint ~0.86)",
    "architecture": "disjoint range 0.07 / gap 0.12 / same range 0.02",
    "pt_samples": "disjoint range 0.03 / gap 0.15 / same range 0.04; disjoint 0.81 -> 0.84",
    "classes": "same transforms, disjoint classes ~0.98 vs disjoint transforms, same classes "
               "~0.91",
    "finetune": "full fine-tuning on 2000 target samples shrinks the gap to ~0.04",
}
AUTHORS_CIFAR = {  # same - disjoint gap per axis (class rel. / architecture / PT samples)
    "cifar10": "gaps 0.19 / 0.12 / 0.06 (class rel. / architecture / PT samples)",
    "cifar100": "gaps 0.33 / 0.19 / 0.14 (class rel. / architecture / PT samples)",
}


def draw(seed: int, n_target: int = N_TARGET) -> dict:
    """The seed's transform sets and object split: ``{"target", "disjoint"}`` (one transform
    per group each, in group order) and ``{"target_objects", "other_objects"}`` (``n_target``
    each, the first of a seeded order of the pack's first 60 objects). The transforms come
    from the paper's fixed 18, so registering more never changes a draw."""
    rng = np.random.default_rng([SEED_TAG, seed])
    target, disjoint = [], []
    for group in (GEOMETRIC, PHOTOMETRIC, CORRUPTION):
        i, j = rng.choice(len(group), size=2, replace=False)
        target.append(group[int(i)])
        disjoint.append(group[int(j)])
    perm = [int(o) for o in rng.permutation(N_OBJECTS)]
    return {"target": target, "disjoint": disjoint,
            "target_objects": perm[:n_target], "other_objects": perm[n_target:2 * n_target]}


def _pretrain_objects(d: dict, classes: str) -> list[int]:
    subset = d["target_objects"][:round(len(d["target_objects"]) / 3)]  # 10 of the paper's 30
    return {"subset": subset, "disjoint": d["other_objects"],
            "same": d["target_objects"],
            "superset": d["target_objects"] + d["other_objects"]}[classes]


def _spec(z: dict, d: dict, seed: int, fam: str, classes: str, model: str, n: int) -> RunSpec:
    """One run: ``fam`` transforms on the ``classes`` pretraining objects, ``n`` samples; probed
    on the target task with ``n_probe`` samples (the target-class run with every
    fine-tuning-samples size as well)."""
    def data(objects, transforms, n, s):
        return dict(objects=list(objects), transforms=list(transforms), n=n, seed=s,
                    image_size=z["image_size"])

    test = data(d["target_objects"], d["target"], z["n_test"], PROBE_SEED_OFFSET + seed)
    sizes = {z["n_probe"], *(z["ft_samples"] if classes == "same" else ())}
    probe_cfg = dict(epochs=z["probe_epochs"], views=z["views"])
    probes = tuple(ProbeTarget(f"n{k}", {**test, "n": k}, test, probe=probe_cfg)
                   for k in sorted(sizes))
    if (classes, model, n) == ("disjoint", z["model"], z["n"]):  # the default run: C5
        ft = z["finetune"]
        probes += (ProbeTarget(finetune_name(z), {**test, "n": ft["n"]}, test, probe=probe_cfg,
                               finetune=dict(epochs=ft["epochs"],
                                             batch_size=ft["batch_size"])),)
    transforms = d["target"] if fam == "same" else d["disjoint"]
    return RunSpec(model=model, source=data(_pretrain_objects(d, classes), transforms, n, seed),
                   train=train_settings(model, z), probes=probes, seed=seed)


def cifar_draw(seed: int, name: str) -> dict:
    """The seed's CIFAR class split: ``{"target_classes", "other_classes"}``, half of the
    classes each, from a seeded order (its own generator: :func:`draw` is unchanged)."""
    k = FORMATS[name].num_classes
    perm = [int(c) for c in np.random.default_rng([SEED_TAG, seed, k]).permutation(k)]
    return {"target_classes": perm[:k // 2], "other_classes": perm[k // 2:]}


def _cifar_spec(name: str, z: dict, d: dict, c: dict, seed: int, fam: str, classes: str,
                model: str, n: int) -> RunSpec:
    """A CIFAR run: ``fam`` transforms on the ``classes`` pretraining classes, ``n`` samples
    over the default (other) classes, i.e. ``n / k`` per class; probed on the target task."""
    def data(cls, transforms, s, **count):
        return dict(dataset="cifar", name=name, classes=list(cls), transforms=list(transforms),
                    seed=s, **count)

    test = data(c["target_classes"], d["target"], PROBE_SEED_OFFSET + seed, n=z["n_test"])
    probe = ProbeTarget(f"n{z['n_probe']}", {**test, "n": z["n_probe"]}, test,
                        probe=dict(epochs=z["probe_epochs"], views=z["views"]))
    pretrain = {"subset": c["target_classes"][:round(len(c["target_classes"]) / 3)],
                "disjoint": c["other_classes"], "same": c["target_classes"],
                "superset": c["target_classes"] + c["other_classes"]}[classes]
    transforms = d["target"] if fam == "same" else d["disjoint"]
    source = data(pretrain, transforms, seed, n_per_class=n // len(c["other_classes"]))
    return RunSpec(model=model, source=source, train=train_settings(model, z), probes=(probe,),
                   seed=seed)


def available_cifar() -> tuple[str, ...]:
    """The CIFAR datasets found on this machine (discovery only)."""
    return tuple(name for name in CIFAR if cifar_available(name))


def finetune_name(z: dict) -> str:
    """The default run's probe target that is also fully fine-tuned (claim C5)."""
    return f"ft{z['finetune']['n']}"


def cells(profile: str, seeds: int, cifar: tuple[str, ...] | None = None
          ) -> list[tuple[str, object, str, int, RunSpec, str]]:
    """``(axis, value, family, seed, spec, probe name)`` for every point of the grid; the
    same spec appears under several axes (the engine computes it once). The Transforms-2D cells
    come first; then those of the CIFAR variant for each of ``cifar`` (default: the datasets
    found here), on axes ``<name>:<axis>``."""
    z = SIZES[profile]
    default = dict(classes="disjoint", model=z["model"], n=z["n"])
    probe = f"n{z['n_probe']}"
    out = []
    for seed in range(seeds):
        d = draw(seed, z["n_target"])
        for fam in FAMILIES:
            def cell(axis, value, classes=default["classes"], model=default["model"],
                     n=default["n"], probe=probe, fam=fam, d=d, seed=seed):
                out.append((axis, value, fam, seed, _spec(z, d, seed, fam, classes, model, n),
                            probe))
            for v in z["classes"]:
                cell("classes", v, classes=v)
            for v in z["models"]:
                cell("architecture", v, model=v)
            for v in z["pt_samples"]:
                cell("pt_samples", v, n=v)
            for v in z["ft_samples"]:
                cell("ft_samples", v, classes="same", probe=f"n{v}")
    zc = CIFAR_SIZES[profile]
    for name in available_cifar() if cifar is None else cifar:
        for seed in range(seeds):
            d, c = draw(seed, z["n_target"]), cifar_draw(seed, name)
            for fam in FAMILIES:
                for axis, values in (("classes", zc["classes"]), ("architecture", zc["models"]),
                                     ("pt_samples", zc["pt_samples"])):
                    for v in values:
                        at = dict(classes="disjoint", model=zc["model"], n=zc["n"])
                        at[{"classes": "classes", "architecture": "model",
                            "pt_samples": "n"}[axis]] = v
                        out.append((f"{name}:{axis}", v, fam, seed,
                                    _cifar_spec(name, zc, d, c, seed, fam, **at),
                                    f"n{zc['n_probe']}"))
    return out


# -- aggregation ------------------------------------------------------------------------------
def _values(records: list[dict], profile: str | None) -> dict[tuple[str, str, str], dict]:
    """``(axis, value, family) -> {seed: target test accuracy}`` of the done runs, matched to
    the cells of ``profile``'s grid (every CIFAR cell included)."""
    out: dict[tuple[str, str, str], dict[int, float]] = {}
    if profile not in SIZES:
        return out
    ft_name = finetune_name(SIZES[profile])
    for (axis, value, fam, seed, _spec, probe), r in match(
            cells(profile, seeds_in(records), tuple(CIFAR)), records, lambda c: c[4]):
        put(out, (axis, str(value), fam), seed,
            (r["result"]["probes"].get(probe) or {}).get("test_acc"))
        ft = r["result"]["probes"].get(ft_name) or {}
        if ft.get("test_acc") is not None and (ft.get("finetune") or {}).get("test_acc") \
                is not None:
            put(out, ("finetune", "linear probe", fam), seed, ft["test_acc"])
            put(out, ("finetune", "full fine-tuning", fam), seed, ft["finetune"]["test_acc"])
    return out


def _table(profile: str | None, values: dict) -> pd.DataFrame:
    rows = []
    z = SIZES.get(profile, SIZES["quick"])
    for axis in (*AXES, "finetune"):
        key = {"classes": "classes", "architecture": "models", "pt_samples": "pt_samples",
               "ft_samples": "ft_samples"}.get(axis)
        for v in z[key] if key else ("linear probe", "full fine-tuning"):
            rows += [ci_row(values.get((axis, str(v), fam), {}), axis=axis, value=str(v),
                            family=fam) for fam in FAMILIES]
    zc = CIFAR_SIZES.get(profile, CIFAR_SIZES["quick"])
    for name in cifar_present(values):
        for axis, key in zip(CIFAR_AXES, ("classes", "models", "pt_samples")):
            rows += [ci_row(values.get((f"{name}:{axis}", str(v), fam), {}),
                            axis=f"{name}:{axis}", value=str(v), family=fam)
                     for v in zc[key] for fam in FAMILIES]
    return pd.DataFrame(rows, columns=["axis", "value", "family", *CI_COLUMNS])


def cifar_present(values: dict) -> list[str]:
    """The CIFAR datasets with at least one result in ``values``."""
    return [n for n in CIFAR if any(k[0].startswith(f"{n}:") for k in values)]


def _axis_label(axis: str) -> str:
    name, _, a = axis.rpartition(":")
    return f"{CIFAR[name]}: {AXIS_LABEL[a]}" if name else AXIS_LABEL[a]


def _axis_means(table, axis: str, fam: str) -> list[float]:
    sub = table[(table.axis == axis) & (table.family == fam)]
    return [float(m) for m in sub["mean"] if not math.isnan(m)]


def _spread(xs: list[float]) -> float:
    return max(xs) - min(xs) if xs else math.nan


def differences(table, axes=AXES) -> dict[str, dict[str, float]]:
    """Per axis: range of disjoint over the axis, mean same - disjoint gap, range of same."""
    out = {}
    for axis in axes:
        s, d = _axis_means(table, axis, "same"), _axis_means(table, axis, "disjoint")
        gap = (sum(s) / len(s) - sum(d) / len(d)) if s and d else math.nan
        out[axis] = {"disjoint_range": _spread(d), "gap": gap, "same_range": _spread(s)}
    return out


def _figure(table, diffs, axes=AXES, title="E1"):
    fig = new_figure((4 * (len(axes) + 1), 3.4))
    axs = fig.subplots(1, len(axes) + 1)
    if axes != AXES:  # the Transforms-2D figure counts seeds over its whole table, as before
        table = table[table.axis.isin(axes)]
    seeds = int(table.seeds.max()) if len(table) else 0
    for ax, axis in zip(axs, axes):
        sub = table[table.axis == axis]
        labels = list(dict.fromkeys(sub.value))
        for k, fam in enumerate(FAMILIES):
            f = sub[sub.family == fam].set_index("value").reindex(labels)
            err = [half_width(lo, hi) for lo, hi in zip(f.ci95_low, f.ci95_high)]
            ax.errorbar([i + (k - 0.5) * 0.1 for i in range(len(labels))], f["mean"],
                        yerr=err, marker="o", capsize=3, label=f"pretrained: {fam}")
        ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        ax.set_ylim(0, 1.02)
        ax.set_title(_axis_label(axis), fontsize=10)
        ax.set_ylabel("target transfer accuracy (macro)")
        ax.legend(fontsize=7)
    ax = axs[-1]
    names = ("disjoint_range", "gap", "same_range")
    for k, name in enumerate(names):
        ax.bar([i + (k - 1) * 0.27 for i in range(len(axes))],
               [diffs[a][name] for a in axes], 0.27, label=name.replace("_", " "))
    ax.set_xticks(range(len(axes)), [_axis_label(a) for a in axes], rotation=30, fontsize=8)
    ax.set_title("performance differences", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(seeds_title(title, seeds), fontsize=11)
    fig.tight_layout()
    return fig


def _claims(values: dict, table, diffs: dict) -> list[dict]:
    gaps = paired(values, ("classes", "disjoint", "same"), ("classes", "disjoint", "disjoint"))
    v1, note1, ci1 = positive_effect(gaps, min_n=3)
    same_default = mean_ci(values.get(("classes", "disjoint", "same"), {}).values())
    dis_default = mean_ci(values.get(("classes", "disjoint", "disjoint"), {}).values())
    claims = [claim(
        "C1", "Matching invariance beats mismatching by a wide margin.",
        "default configuration: mean over seeds of (same - disjoint) target probe accuracy > 0, "
        "with a 95% t-interval over >= 3 seeds excluding 0", v1,
        f"gap {ci1}; same {same_default.mean:.3f} vs disjoint {dis_default.mean:.3f}",
        AUTHORS["gap"], note1)]
    for cid, axis, text in (
            ("C2", "architecture", "The invariance gap exceeds the spread due to architecture."),
            ("C3", "pt_samples", "The invariance gap exceeds the spread due to the number of "
                                 "pretraining samples.")):
        d = diffs[axis]
        n = int(table[table.axis == axis].seeds.min()) if len(table) else 0
        if n < 3 or math.isnan(d["gap"]) or math.isnan(d["disjoint_range"]):
            verdict, note = "not run", f"needs >= 3 seeds on every {AXIS_LABEL[axis]} value, " \
                                       f"got {n}"
        else:
            verdict, note = ("pass" if d["gap"] > d["disjoint_range"] else "fail"), None
        claims.append(claim(
            cid, text, f"mean same - disjoint gap over the {AXIS_LABEL[axis]} values > range "
                       f"(max - min) of the mean disjoint accuracy over those values", verdict,
            f"gap {d['gap']:.3f} vs disjoint range {d['disjoint_range']:.3f} "
            f"(same range {d['same_range']:.3f})", AUTHORS[axis], note))
    c4 = paired(values, ("classes", "disjoint", "same"), ("classes", "same", "disjoint"))
    v4, note4, ci4 = positive_effect(c4, min_n=3)
    a = mean_ci(values.get(("classes", "disjoint", "same"), {}).values())
    b = mean_ci(values.get(("classes", "same", "disjoint"), {}).values())
    claims.append(claim(
        "C4", "Same transforms with other classes beat other transforms with the same classes.",
        "mean over seeds of (same transforms pretrained on the other classes - disjoint "
        "transforms pretrained on the target classes) > 0, 95% t-interval over >= 3 seeds "
        "excluding 0", v4, f"difference {ci4}; {a.mean:.3f} vs {b.mean:.3f}",
        AUTHORS["classes"], note4))
    probe_gap = paired(values, ("finetune", "linear probe", "same"),
                        ("finetune", "linear probe", "disjoint"))
    full_gap = paired(values, ("finetune", "full fine-tuning", "same"),
                       ("finetune", "full fine-tuning", "disjoint"))
    shrink = [a - b for a, b in zip(probe_gap, full_gap)]
    v5, note5, ci5 = positive_effect(shrink, min_n=3)
    claims.append(claim(
        "C5", "The gap shrinks when many target samples are available for full fine-tuning.",
        "default configuration, largest fine-tuning size: mean over seeds of (linear-probe gap "
        "- full fine-tuning gap) > 0, 95% t-interval over >= 3 seeds excluding 0 (gap = same - "
        "disjoint target accuracy)", v5,
        f"probe gap {mean_ci(probe_gap).mean:.3f} -> fine-tuned gap "
        f"{mean_ci(full_gap).mean:.3f}; shrink {ci5}", AUTHORS["finetune"], note5))
    return claims


def _cifar_claim(name: str, values: dict, table) -> dict:
    """C1–C3 on one CIFAR dataset: a positive default gap, exceeding the disjoint range over
    architectures and over pretraining samples."""
    axes = [f"{name}:{a}" for a in CIFAR_AXES]
    diffs = differences(table, axes)
    gaps = paired(values, (axes[0], "disjoint", "same"), (axes[0], "disjoint", "disjoint"))
    v1, _, ci1 = positive_effect(gaps, min_n=3)
    ok = [v1 == "pass"]
    parts = [f"(C1) default gap {ci1}"]
    for cid, axis in (("C2", axes[1]), ("C3", axes[2])):
        d = diffs[axis]
        ok.append(d["gap"] > d["disjoint_range"])
        parts.append(f"({cid}) {AXIS_LABEL[axis.split(':')[1]]}: gap {d['gap']:.3f} vs "
                     f"disjoint range {d['disjoint_range']:.3f}")
    parts.append("gaps per axis (class rel. / architecture / PT samples): "
                 + " / ".join(f"{diffs[a]['gap']:.3f}" for a in axes))
    n = int(table[table.axis.isin(axes)].seeds.min())
    if n < 3 or any(math.isnan(diffs[a][k]) for a in axes for k in ("gap", "disjoint_range")):
        verdict, note = "not run", f"needs >= 3 seeds on every {CIFAR[name]} value, got {n}"
    else:
        verdict, note = ("pass" if all(ok) else "fail"), None
    return claim(
        f"C1-C3 {CIFAR[name]}",
        f"On {CIFAR[name]} (the paper's CIFAR variant) matching invariance beats mismatching, "
        f"by more than the spread due to architecture and to the number of pretraining samples.",
        "C1's criterion on the default configuration, and C2's and C3's (mean gap over the axis "
        f"> range of the mean disjoint accuracy) on the {CIFAR[name]} axes; all three must "
        "hold, >= 3 seeds", verdict, "; ".join(parts), AUTHORS_CIFAR[name], note)


def _cifar_markdown(profile: str | None, present: list[str]) -> str:
    zc = CIFAR_SIZES.get(profile)
    text = []
    if present:
        text.append(
            f"CIFAR variant ({', '.join(CIFAR[n] for n in present)}): the seed's target and "
            f"disjoint transforms on whole CIFAR images; target task = half of the classes "
            f"(5 of CIFAR-10, 50 of CIFAR-100, seeded order), models pretrain by default on the "
            f"other half; subset = a third of the target classes, superset = all classes. "
            f"Pretraining samples are totals over the default classes, kept per class on the "
            f"class-relationship axis. Table rows `<dataset>:<axis>`, figure `e1_cifar`, check "
            f"`C1-C3 <dataset>`." + (f" Sizes: {zc['model']}, {zc['n']} pretraining samples x "
                                     f"{zc['epochs']} epochs, batch {zc['batch_size']}; probe "
                                     f"{zc['n_probe']} samples x {zc['probe_epochs']} epochs, "
                                     f"test {zc['n_test']}." if zc else ""))
    missing = [n for n in CIFAR if n not in present]
    found = available_cifar()
    if len(missing) == len(CIFAR) and not found:
        text.append(f"CIFAR-10/100 variant: {CIFAR_MISSING}.")
    else:
        text += [f"{CIFAR[n]} variant: " + ("no finished runs yet." if n in found else
                                             f"{CIFAR_MISSING}.") for n in missing]
    return "\n".join(text) + "\n"


def aggregate(records: list[dict], profile: str | None) -> dict:
    """Table ``e1_transfer``, figure ``e1_transfer`` and claims C1–C5 from the done runs; with
    CIFAR results also their rows, figure ``e1_cifar`` and one check per dataset."""
    values = _values(records, profile)
    table = _table(profile, values)
    diffs = differences(table)
    present = cifar_present(values)
    cifar_axes = [f"{n}:{a}" for n in present for a in CIFAR_AXES]
    diffs_c = differences(table, cifar_axes)
    diff_table = pd.DataFrame([{"axis": a, **{**diffs, **diffs_c}[a]}
                               for a in (*AXES, *cifar_axes)],
                              columns=["axis", "disjoint_range", "gap", "same_range"])
    k = SIZES[profile]["n_target"] if profile in SIZES else N_TARGET
    md = (f"E1 (docs/protocol.md §6): target task = {k} target objects under the seed's "
          f"target transforms, linear probe on frozen features; `same` models pretrain with the "
          f"target transforms, `disjoint` with the disjoint ones, by default on the {k} other "
          f"objects. Axes varied one at a time. "
          + sizes_markdown(profile, SIZES, _describe) + "\n" + _cifar_markdown(profile, present))
    figures = {"e1_transfer": _figure(table, diffs)}
    if present:
        figures["e1_cifar"] = _figure(table, diffs_c, cifar_axes, "E1 CIFAR variant")
    return {"markdown": md,
            "tables": {"e1_transfer": table, "e1_differences": diff_table},
            "figures": figures,
            "claims": _claims(values, table, diffs)
            + [_cifar_claim(n, values, table) for n in present]}


def _describe(z: dict) -> str:
    return describe_sizes(z, f"{z['n_target']} + {z['n_target']} objects, ")


@register_experiment("e1", aggregate, aliases=("tvo",), paper=True)
def e1(profile: str, seeds: int) -> list[RunSpec]:
    """E1 invariance vs other factors: same vs disjoint transforms over four axes."""
    return unique(c[4] for c in cells(profile, seeds))
