"""``e2``: invariance to irrelevant features can harm transfer (docs/protocol.md §6 E2; claim C6,
§7).

Small objects (12 px at 32, upper-right corner; a second variant places them anywhere) are
pasted onto scene images. Four tasks, input/label: ``C/C`` (scene only, scene label), ``C+O/C``
(scene with object, scene label), ``C+O/O`` (scene with object, object label) and ``O/O``
(object on black, object label); the object is drawn independently of the scene class. One
model is pretrained per task and variant, then every model is probed on the four tasks (4×4),
and its invariance to the object (same scene, another object) and to the scene (same object,
another scene) is measured with the normalised l2 metric (docs/protocol.md §5).

**Sources of the scenes.** The paper uses CIFAR-10 images. The ``scenes`` source, always run,
is a stand-in: the builtin pack's procedural backgrounds labelled by their 8 families; every
output says so. The ``cifar10`` source (``background_pack="cifar10"``: CIFAR-10 images, label =
CIFAR class) is added only where :func:`~transforms2d.data.cifar.cifar_available` finds
CIFAR-10; its tables, figure and claim carry a ``cifar10`` suffix, and without the data the
report says "not run: CIFAR not available".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..assets.cifar import cifar_available
from ..engine import InvarianceTarget, ProbeTarget, RunSpec, register_experiment, unique
from ..engine.spec import train_settings
from ..engine.stats import mean_ci, positive_effect
from .common import (
    CI_COLUMNS,
    ci_row,
    claim,
    match,
    new_figure,
    paired,
    put,
    seeds_in,
    seeds_title,
    sizes_markdown,
)

SEED_TAG = 0xE2
N_OBJECTS = 10  # the paper's 10 objects
OBJECT_SCALE = 12 / 32  # ≈12×12 px at 32 px
PROBE_SEED_OFFSET = 10_000  # probe/invariance data never equal the pretraining data
SCENES = "scenes (builtin backgrounds, 8 procedural families) standing in for CIFAR-10"
SOURCES = {"scenes": SCENES, "cifar10": "CIFAR-10 images (label = CIFAR-10 class)"}
CIFAR_MISSING = "not run: CIFAR not available"

TASKS = ("C/C", "C+O/C", "C+O/O", "O/O")
TASK_DATA = {  # Transforms2D arguments of each task (objects, sizes and placement added later)
    "C/C": dict(class_from="background", object_availability=0.0),
    "C+O/C": dict(class_from="background"),
    "C+O/O": dict(class_from="object"),
    "O/O": dict(class_from="object", backgrounds="black"),
}
TASK_ID = {"C/C": "C_C", "C+O/C": "CO_C", "C+O/O": "CO_O", "O/O": "O_O"}  # in file names
VARIANTS = {"fixed": "corner", "translated": "anywhere"}  # variant -> object_position
FACTORS = ("object", "background")  # invariance to the object / to the scene image
FACTOR_NAME = {"object": "object", "background": "scene"}  # in tables and figures

SIZES = {
    "paper": dict(model="resnet18", image_size=32, n=50000, epochs=200, batch_size=512,
                  n_probe=50000, n_test=10000, probe_epochs=100, views=2, n_inv=10000),
    # quick (2-core CPU): convnet_xs, 3000 samples x 10 epochs instead of ResNet-18 on 50k x
    # 200; probes on 1000 samples. convnet_xs reaches 0.95-1.0 pretraining train accuracy on
    # all four tasks at this size (seed 0, ~10 s per model on one thread).
    "quick": dict(model="convnet_xs", image_size=32, n=3000, epochs=10, batch_size=128,
                  n_probe=1000, n_test=1000, probe_epochs=200, views=1, n_inv=500),
    "smoke": dict(model="convnet_xs", image_size=16, n=160, epochs=1, batch_size=64,
                  n_probe=80, n_test=80, probe_epochs=5, views=1, n_inv=64),
}

# docs/protocol.md §6 E2 (ResNet-18, CIFAR-10 scenes, 200 epochs).
AUTHORS = ("C+O/C model: invariance to objects 0.08 (C/C model 0.21); transfer to C+O/O 0.53 "
           "(translated 0.15) vs the C/C model's 0.80 (0.56); invariance and transfer "
           "correlate (Pearson 0.68 to 0.94)")


def draw(seed: int) -> dict:
    """The seed's 10 objects (from the builtin pack's first 60): ``{"objects": [...]}``."""
    rng = np.random.default_rng([SEED_TAG, seed])
    return {"objects": [int(o) for o in rng.permutation(60)[:N_OBJECTS]]}


def _data(z: dict, objects: list[int], task: str, variant: str, n: int, seed: int,
          source: str = "scenes") -> dict:
    # C/C has no object, so its placement is irrelevant: one spec serves both variants.
    position = "corner" if task == "C/C" else VARIANTS[variant]
    # the pack name only, never a root: the CIFAR files are found at run time
    pack = {} if source == "scenes" else dict(background_pack=source)
    return dict(objects=list(objects), n=n, seed=seed, image_size=z["image_size"],
                object_scale=OBJECT_SCALE, object_position=position, **TASK_DATA[task], **pack)


def _spec(z: dict, objects: list[int], seed: int, task: str, variants: tuple[str, ...],
          source: str = "scenes") -> RunSpec:
    """Pretrain on ``task``; probe on the four tasks and measure invariance to the object and
    to the scene, for each of ``variants`` (the object placements this model serves)."""
    s = PROBE_SEED_OFFSET + seed
    probes, inv = [], []
    for v in variants:
        for t in TASKS:
            test = _data(z, objects, t, v, z["n_test"], s, source)
            probes.append(ProbeTarget(f"{v}.{TASK_ID[t]}", {**test, "n": z["n_probe"]}, test,
                                      probe=dict(epochs=z["probe_epochs"], views=z["views"])))
        # invariance to the object: scene-labelled data, the twin swaps the object; to the
        # scene: object-labelled data, the twin swaps the background (same images otherwise)
        for factor, task_ in (("object", "C+O/C"), ("background", "C+O/O")):
            inv.append(InvarianceTarget(f"{v}.{factor}",
                                        _data(z, objects, task_, v, z["n_inv"], s, source),
                                        metrics=("l2",), twin_factor=factor))
    return RunSpec(model=z["model"],
                   source=_data(z, objects, task, variants[0], z["n"], seed, source),
                   train=train_settings(z["model"], z), probes=tuple(probes), invariance=tuple(inv),
                   seed=seed)


def sources() -> tuple[str, ...]:
    """The scene sources that run here: ``scenes``, and ``cifar10`` where CIFAR-10 is found."""
    return ("scenes", *(("cifar10",) if cifar_available("cifar10") else ()))


def cells(profile: str, seeds: int, source: str = "scenes"
          ) -> list[tuple[str, str, int, RunSpec]]:
    """``(variant, pretraining task, seed, spec)`` of one scene source; the C/C model serves
    both variants."""
    z = SIZES[profile]
    out = []
    for seed in range(seeds):
        objects = draw(seed)["objects"]
        shared = _spec(z, objects, seed, "C/C", tuple(VARIANTS), source)
        for v in VARIANTS:
            for task in TASKS:
                spec = shared if task == "C/C" else _spec(z, objects, seed, task, (v,), source)
                out.append((v, task, seed, spec))
    return out


# -- aggregation ------------------------------------------------------------------------------
def _values(records: list[dict], profile: str | None, source: str = "scenes") -> dict:
    """``("probe", variant, pretrain task, target task) -> {seed: acc}`` and
    ``("inv", variant, pretrain task, factor) -> {seed: l2}`` from the done runs of
    ``source``, matched to the cells of ``profile``'s grid."""
    out: dict[tuple, dict[int, float]] = {}
    if profile not in SIZES:
        return out
    for (v, task, seed, _), r in match(cells(profile, seeds_in(records), source), records,
                                       lambda c: c[3]):
        res = r["result"]
        for t in TASKS:
            put(out, ("probe", v, task, t), seed,
                (res["probes"].get(f"{v}.{TASK_ID[t]}") or {}).get("test_acc"))
        for f in FACTORS:
            put(out, ("inv", v, task, f), seed,
                (res["invariance"].get(f"{v}.{f}") or {}).get("l2"))
    return out


def _tables(values: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 4x4 probe accuracies per variant and the invariance of every pretrained model."""
    probe_rows, inv_rows = [], []
    for v in VARIANTS:
        for task in TASKS:
            probe_rows += [ci_row(values.get(("probe", v, task, t), {}), variant=v,
                                  pretrained_on=task, probed_on=t) for t in TASKS]
            inv_rows += [ci_row(values.get(("inv", v, task, f), {}), variant=v,
                                pretrained_on=task, invariance_to=FACTOR_NAME[f])
                         for f in FACTORS]
    inv = pd.DataFrame(inv_rows).rename(columns={"mean": "l2_mean"})
    return (pd.DataFrame(probe_rows, columns=["variant", "pretrained_on", "probed_on",
                                              *CI_COLUMNS]), inv)


def _figure(probe, inv, seeds: int, scenes: str = SCENES):
    fig = new_figure((15, 4.2))
    axs = fig.subplots(1, 3)
    for ax, v in zip(axs[:2], VARIANTS):
        m = np.array([[float(probe[(probe.variant == v) & (probe.pretrained_on == a) &
                                   (probe.probed_on == b)]["mean"].iloc[0]) for b in TASKS]
                      for a in TASKS])
        im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
        for i in range(len(TASKS)):
            for j in range(len(TASKS)):
                if not math.isnan(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if m[i, j] < 0.6 else "black")
        ax.set_xticks(range(len(TASKS)), TASKS, fontsize=8)
        ax.set_yticks(range(len(TASKS)), TASKS, fontsize=8)
        ax.set_xlabel("probed on")
        ax.set_ylabel("pretrained on")
        ax.set_title(f"probe accuracy, {v} objects", fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.046)
    ax = axs[2]
    labels = [f"{t}\n{v[:5]}" for v in VARIANTS for t in TASKS]
    for k, f in enumerate(FACTORS):
        sub = inv[inv.invariance_to == FACTOR_NAME[f]]
        means = [float(sub[(sub.variant == v) & (sub.pretrained_on == t)]["l2_mean"].iloc[0])
                 for v in VARIANTS for t in TASKS]
        lo = [float(sub[(sub.variant == v) & (sub.pretrained_on == t)]["ci95_low"].iloc[0])
              for v in VARIANTS for t in TASKS]
        err = [0.0 if math.isnan(a) else m - a for m, a in zip(means, lo)]
        ax.bar([i + (k - 0.5) * 0.4 for i in range(len(labels))], means, 0.4, yerr=err,
               capsize=2, label=f"to the {FACTOR_NAME[f]}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("normalised l2 (lower = more invariant)")
    ax.set_title("invariance of each pretrained model", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(seeds_title(f"E2 on {scenes}", seeds), fontsize=10)
    fig.tight_layout()
    return fig


def _pearson(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 3 or np.std(xs) == 0 or np.std(ys) == 0:
        return math.nan
    return float(np.corrcoef(xs, ys)[0, 1])


def _claims(values: dict, source: str = "scenes", cifar_note: str = "") -> list[dict]:
    parts, verdicts, notes = [], [], []
    for v in VARIANTS:
        # (a) the C+O/C model is more invariant to the object than the C/C model
        inv_gap = paired(values, ("inv", v, "C/C", "object"), ("inv", v, "C+O/C", "object"))
        va, na, ca = positive_effect(inv_gap, min_n=3)
        # (b) ...and transfers worse to C+O/O, the task that needs the object
        harm = paired(values, ("probe", v, "C/C", "C+O/O"), ("probe", v, "C+O/C", "C+O/O"))
        vb, nb, cb = positive_effect(harm, min_n=3)
        verdicts += [va, vb]
        notes += [n for n in (na, nb) if n]
        inv = {t: mean_ci(values.get(("inv", v, t, "object"), {}).values()).mean for t in TASKS}
        acc = {t: mean_ci(values.get(("probe", v, t, "C+O/O"), {}).values()).mean
               for t in TASKS}
        pairs = [(values[("inv", v, t, "object")][s], values[("probe", v, t, "C+O/O")][s])
                 for t in TASKS if ("inv", v, t, "object") in values
                 and ("probe", v, t, "C+O/O") in values
                 for s in values[("inv", v, t, "object")]
                 if s in values[("probe", v, t, "C+O/O")]]
        r = _pearson([p[0] for p in pairs], [p[1] for p in pairs])
        parts.append(f"{v}: invariance to objects C+O/C {inv['C+O/C']:.3f} vs C/C "
                     f"{inv['C/C']:.3f} (difference {ca}); transfer to C+O/O C+O/C "
                     f"{acc['C+O/C']:.3f} vs C/C {acc['C/C']:.3f} (difference {cb}); Pearson "
                     f"(object invariance, C+O/O transfer) over models x seeds {r:.2f}")
    if "not run" in verdicts:
        verdict = "not run"
    else:
        verdict = "pass" if all(x == "pass" for x in verdicts) else "fail"
    return [claim(
        "C6" if source == "scenes" else "C6 CIFAR-10",
        "Invariance to irrelevant features harms transfer to tasks that need them.",
        "for both object placements, paired over >= 3 seeds with 95% t-intervals excluding 0: "
        "(a) the C+O/C model is more invariant to the object than the C/C model (lower "
        "normalised l2) and (b) it transfers worse to C+O/O than the C/C model. Scenes: "
        + SOURCES[source] + cifar_note, verdict, " | ".join(parts), AUTHORS,
        "; ".join(dict.fromkeys(notes)) or None)]


def aggregate(records: list[dict], profile: str | None) -> dict:
    """Tables ``e2_probe`` (4×4 per variant) and ``e2_invariance``, figure ``e2_transfer``,
    claim C6, all on the scene stand-in; with CIFAR-10 results the same with a ``_cifar10``
    suffix (claim ``C6 CIFAR-10``)."""
    values = _values(records, profile)
    probe, inv = _tables(values)
    seeds = int(probe.seeds.max()) if len(probe) else 0
    cvalues = _values(records, profile, "cifar10")
    if cvalues:
        cifar_text = ("the CIFAR-10 version is reported below (tables `e2_probe_cifar10`, "
                      "`e2_invariance_cifar10`, claim `C6 CIFAR-10`)")
    elif cifar_available("cifar10"):
        cifar_text = "CIFAR-10 version: no finished runs yet"
    else:
        cifar_text = f"CIFAR-10 version: {CIFAR_MISSING}"
    md = (f"E2 (docs/protocol.md §6) on **{SCENES}** — a stand-in: the paper pastes the "
          f"objects on CIFAR-10 images; {cifar_text}. Tasks "
          f"(input/label): C/C scene only, C+O/C scene with object labelled by scene, C+O/O "
          f"labelled by object, O/O object on black. Objects {round(OBJECT_SCALE * 32)} px at "
          f"32 px, fixed in the upper-right corner or anywhere (translated). Invariance: "
          f"normalised l2 between images that differ only in the object (same scene) or only "
          f"in the scene (same object); lower = more invariant."
          + " Not run: the label-correlation and object-availability axes.\n\n"
          + sizes_markdown(profile, SIZES))
    tables = {"e2_probe": probe, "e2_invariance": inv}
    figures = {"e2_transfer": _figure(probe, inv, seeds)}
    claims = _claims(values, cifar_note="; the CIFAR-10 version: " + (
        "claim C6 CIFAR-10" if cvalues else cifar_text.split(": ", 1)[1]))
    if cvalues:
        cprobe, cinv = _tables(cvalues)
        tables.update(e2_probe_cifar10=cprobe, e2_invariance_cifar10=cinv)
        figures["e2_transfer_cifar10"] = _figure(cprobe, cinv, int(cprobe.seeds.max()),
                                                 SOURCES["cifar10"])
        claims += _claims(cvalues, "cifar10")
        md += (f"\nCIFAR-10 version: the same tasks with the objects on **{SOURCES['cifar10']}** "
               f"(`background_pack=\"cifar10\"`: train/val from CIFAR-10 train, test from "
               f"CIFAR-10 test; C/C and C+O/C labelled by the CIFAR-10 class); same sizes. "
               f"Numbers in the tables and figure with the `cifar10` suffix and in claim "
               f"`C6 CIFAR-10`; all others are on the stand-in.\n")
    return {"markdown": md, "tables": tables, "figures": figures, "claims": claims}


@register_experiment("e2", aggregate, aliases=("ife",), paper=True)
def e2(profile: str, seeds: int) -> list[RunSpec]:
    """E2 irrelevant features: C/C, C+O/C, C+O/O, O/O models probed on each other's tasks."""
    return unique(c[3] for source in sources() for c in cells(profile, seeds, source))
