"""``e3``: how transferable is invariance? (docs/protocol.md §6 E3; claim C7, §7).

For every single transform τ of :data:`~transforms2d.transforms.TRANSFORMS`, and for no
transform (``none``), two models are pretrained with τ only: an ``img`` model on 30 "primary"
builtin objects on image backgrounds (a seeded draw from the pack's first 60; the other 30 are
the "other" objects) and a ``rand`` model on 30 random-pixel objects on random backgrounds.
Each model's normalised-l2 invariance (docs/protocol.md §5) to every τ is measured on the domains of
:data:`DOMAINS`, on data rendered from their own seed.

Per measured τ: **Same** is the model trained on τ, **Other** the mean of the models trained on
the other transforms, **None** the model trained on none. Profiles change sizes only.

The CIFAR-10 / CIFAR-100 domains are measured only where
:func:`~transforms2d.data.cifar.cifar_available` finds the data: on
:class:`~transforms2d.data.TransformedCIFAR` test images of all classes with ``normalize="half"``
(the [-1, 1] range the models were trained on), at 32 px whatever the profile's image size (the
models pool globally). Otherwise they stay in the tables as "not run: CIFAR not available".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..assets.cifar import cifar_available
from ..engine import InvarianceTarget, RunSpec, register_experiment
from ..engine.spec import train_settings
from ..engine.stats import mean_ci, positive_effect
from ..transforms import PAPER_TRANSFORMS
from .common import claim, describe_sizes, new_figure, seeds_title, sizes_markdown

N_OBJECTS, N_PRIMARY = 60, 30
SEED_TAG = 0xE3  # mixed into the per-seed generator that draws the object split
INV_SEED_OFFSET = 30_000  # invariance data use their own rendering seeds, never the source's
METRIC = "l2"  # what the tables use (docs/protocol.md §5)
NONE = "none"
KINDS = ("img", "rand")
CIFAR_MISSING = "not run: CIFAR not available"

SIZES = {  # profile -> sizes; the logic is the same for all three
    "paper": dict(model="resnet18", image_size=32, n=50000, epochs=50, batch_size=512,
                  n_inv=10000, n_inv_cifar=10000, metrics=("l2", "cos", "dot", "cka")),
    # quick: 114 runs (3 seeds) in ~7 min on 2 one-thread workers leaves ~7 CPU-s a run:
    # convnet_xs, 3000 samples x 4 epochs (batch 64 learns much faster than 128 at the same
    # cost), invariance on 128 pairs, l2 only. Measured (one thread, 32 px): ~6 s a run
    # (pretraining 4-6 s, the 54 invariance measurements ~2 s); train accuracy of the none
    # models 0.98 (img) / 0.99 (rand), 0.26-0.95 for the others. CIFAR (where found) adds 36
    # measurements of 200 pairs a run (n_inv_cifar: at least one image per CIFAR-100 class):
    # ~9 s a run instead of ~6 (synthetic archives, one thread, busy machine).
    "quick": dict(model="convnet_xs", image_size=32, n=3000, epochs=4, batch_size=64,
                  n_inv=128, n_inv_cifar=200, metrics=("l2",)),
    "smoke": dict(model="convnet_xs", image_size=16, n=300, epochs=1, batch_size=64,
                  n_inv=60, n_inv_cifar=100, metrics=("l2",), transforms=3),
}

# kind -> domain -> (object set, asset pack, backgrounds); the object sets are those of
# `object_sets`. A string instead of a triple names a domain that cannot always run and why (it
# stays in the tables); the CIFAR ones run where their data are found (CIFAR_DOMAINS). Each kind
# pretrains on its "id" domain; the first three domains are in order of growing shift.
DOMAINS = {
    "img": {"id": ("primary", "builtin", "images"),
            "other_objects": ("other", "builtin", "images"),
            "random": ("random_other", "random", "random"),
            "cifar10": CIFAR_MISSING, "cifar100": CIFAR_MISSING},
    "rand": {"id": ("random_id", "random", "random"),
             "random_other": ("random_other", "random", "random"),
             "real": ("primary", "builtin", "images"),
             "cifar10": CIFAR_MISSING, "cifar100": CIFAR_MISSING},
}
CIFAR_DOMAINS = ("cifar10", "cifar100")  # domain = dataset name
SHIFT_ORDER = {"img": ("id", "other_objects", "random"), "rand": ("id", "random_other", "real")}
OTHER_MARGIN = 0.05  # C7(c): None - Other may exceed 0 by at most this (l2 units)

# docs/protocol.md §6 E3, ResNet-18, normalised l2: kind -> domain -> (Same, Other, None).
AUTHORS = {
    "img": {"id": (0.12, 0.40, 0.39), "other_objects": (0.21, 0.41, 0.42),
            "random": (0.56, 0.69, 0.69), "cifar10": (0.37, 0.51, 0.48),
            "cifar100": (0.35, 0.50, 0.48)},
    "rand": {"id": (0.12, 0.64, 0.65), "random_other": (0.44, 0.69, 0.70),
             "real": (0.24, 0.33, 0.35), "cifar10": (0.40, 0.46, 0.49),
             "cifar100": (0.37, 0.45, 0.47)},
}
ROLES = ("same", "other", "none")


def draw(seed: int) -> dict:
    """The seed's object split of the builtin pack's first 60: ``{"primary", "other"}``, 30
    object indices each."""
    perm = [int(o) for o in np.random.default_rng([SEED_TAG, seed]).permutation(N_OBJECTS)]
    return {"primary": perm[:N_PRIMARY], "other": perm[N_PRIMARY:]}


def object_sets(d: dict) -> dict[str, list[int]]:
    """Named object lists: the draw's builtin ones and the fixed random-pixel ones."""
    return {**d, "random_id": list(range(N_PRIMARY)),
            "random_other": list(range(N_PRIMARY, N_OBJECTS))}


def measured(z: dict) -> tuple[str, ...]:
    """The transforms measured (and trained on, besides ``none``) with sizes ``z``: the first
    ``z["transforms"]`` of the paper's fixed 18 (all of them unless a profile says fewer)."""
    return PAPER_TRANSFORMS[:z.get("transforms", len(PAPER_TRANSFORMS))]


def available_cifar() -> tuple[str, ...]:
    """The CIFAR domains whose data are found on this machine (discovery only)."""
    return tuple(name for name in CIFAR_DOMAINS if cifar_available(name))


def _spec(z: dict, d: dict, seed: int, kind: str, trained: str, cifar: tuple[str, ...] = ()
          ) -> RunSpec:
    """The ``kind`` model pretrained with ``trained`` only, measured on every runnable domain
    (the CIFAR ones of ``cifar`` included) for every measured transform (targets named
    ``<domain>.<transform>``)."""
    sets = object_sets(d)

    def data(domain, transforms, n, s):
        if domain in CIFAR_DOMAINS:  # all classes, in the models' [-1, 1] input range
            return dict(dataset="cifar", name=domain, transforms=list(transforms),
                        n=z["n_inv_cifar"], seed=s, normalize="half")
        objects, assets, backgrounds = DOMAINS[kind][domain]
        return dict(objects=sets[objects], transforms=list(transforms), n=n, seed=s,
                    image_size=z["image_size"], assets=assets, backgrounds=backgrounds)

    targets = tuple(
        InvarianceTarget(f"{dom}.{t}", data(dom, [t], z["n_inv"], INV_SEED_OFFSET + seed),
                         metrics=z["metrics"])
        for dom, how in DOMAINS[kind].items() if not isinstance(how, str) or dom in cifar
        for t in measured(z))
    source = data("id", [] if trained == NONE else [trained], z["n"], seed)
    return RunSpec(model=z["model"], source=source, train=train_settings(z["model"], z),
                   invariance=targets, seed=seed)


def cells(profile: str, seeds: int, cifar: tuple[str, ...] | None = None
          ) -> list[tuple[str, str, int, RunSpec]]:
    """``(kind, trained transform or "none", seed, spec)`` for every run of the grid; the runs
    also measure the CIFAR domains of ``cifar`` (default: those found here). That changes the
    specs (one run both pretrains and measures), so adding CIFAR later means new runs."""
    z = SIZES[profile]
    cifar = available_cifar() if cifar is None else tuple(cifar)
    return [(kind, t, seed, _spec(z, d, seed, kind, t, cifar))
            for seed in range(seeds) for d in [draw(seed)]
            for kind in KINDS for t in (*measured(z), NONE)]


# -- aggregation ------------------------------------------------------------------------------
def _parse(records: list[dict]) -> tuple[dict, dict, list[str]]:
    """From the done runs' specs and results: ``(kind, domain, trained, measured) -> {seed:
    l2}``, ``(kind, trained) -> {seed: pretraining train accuracy}`` and the measured
    transforms (in the paper's order)."""
    kind_of = {DOMAINS[k]["id"][1]: k for k in KINDS}  # the pretraining pack names the kind
    inv: dict[tuple, dict[int, float]] = {}
    acc: dict[tuple, dict[int, float]] = {}
    seen = set()
    for r in records:
        spec, res = r["spec"], r["result"]
        kind = kind_of.get(spec.source.get("assets"))
        ts = list(spec.source["transforms"])
        if kind is None or len(ts) > 1:
            continue
        trained = ts[0] if ts else NONE
        a = res.get("pretrain", {}).get("final", {}).get("train_acc")
        if a is not None:
            acc.setdefault((kind, trained), {})[spec.seed] = a
        for name, m in res.get("invariance", {}).items():
            domain, _, t = name.partition(".")
            if m.get(METRIC) is not None:
                inv.setdefault((kind, domain, trained, t), {})[spec.seed] = m[METRIC]
                seen.add(t)
    return inv, acc, [t for t in PAPER_TRANSFORMS if t in seen]


def per_seed(inv: dict, kind: str, domain: str, ts: list[str]) -> dict[int, tuple]:
    """``seed -> (Same, Other, None)``, each the mean over the measured τ that have all three
    (Same: trained on τ; Other: mean over the other trained transforms present; None)."""
    seeds = {s for (k, d, _, _), v in inv.items() if (k, d) == (kind, domain) for s in v}
    out = {}
    for s in sorted(seeds):
        rows = []
        for t in ts:
            same = inv.get((kind, domain, t, t), {}).get(s)
            none = inv.get((kind, domain, NONE, t), {}).get(s)
            others = [inv[(kind, domain, o, t)][s] for o in ts
                      if o != t and s in inv.get((kind, domain, o, t), {})]
            if same is not None and none is not None and others:
                rows.append((same, sum(others) / len(others), none))
        if rows:
            out[s] = tuple(sum(r[i] for r in rows) / len(rows) for i in range(3))
    return out


def measured_domains(inv: dict) -> dict[str, dict[str, object]]:
    """``DOMAINS`` with each CIFAR domain that has results given ``None`` (runnable) instead of
    its string, which says why it did not run."""
    have = {(k, d) for k, d, _, _ in inv}
    found = available_cifar()
    return {k: {d: None if (k, d) in have and d in CIFAR_DOMAINS else
                "not run yet" if d in CIFAR_DOMAINS and d in found else how
                for d, how in DOMAINS[k].items()} for k in KINDS}


def _summary(inv: dict, ts: list[str]) -> pd.DataFrame:
    rows = []
    domains = measured_domains(inv)
    for kind in KINDS:
        for domain, how in domains[kind].items():
            by_seed = per_seed(inv, kind, domain, ts)
            row = {"kind": kind, "domain": domain, "seeds": len(by_seed)}
            for i, role in enumerate(ROLES):
                ci = mean_ci(v[i] for v in by_seed.values())
                row[role], row[f"{role}_ci95"] = ci.mean, ci.half
            gain = mean_ci(v[2] - v[0] for v in by_seed.values())
            row["none_minus_same"], row["none_minus_same_ci95"] = gain.mean, gain.half
            auth = AUTHORS[kind].get(domain, (math.nan,) * 3)
            row.update({f"authors_{role}": a for role, a in zip(ROLES, auth)})
            row["note"] = how if isinstance(how, str) else ""
            rows.append(row)
    return pd.DataFrame(rows)


def _matrix(inv: dict, ts: list[str]):
    """Wide table: one row per (kind, domain, trained), one column of mean l2 per measured τ."""
    rows = []
    domains = measured_domains(inv)
    for kind in KINDS:
        for domain, how in domains[kind].items():
            if isinstance(how, str):
                continue
            for tr in (*ts, NONE):
                cells_ = [inv.get((kind, domain, tr, t), {}) for t in ts]
                rows.append({"kind": kind, "domain": domain, "trained": tr,
                             "seeds": min((len(c) for c in cells_), default=0),
                             **{t: mean_ci(c.values()).mean for t, c in zip(ts, cells_)}})
    return pd.DataFrame(rows, columns=["kind", "domain", "trained", "seeds", *ts])


def _pretrain_table(acc: dict, ts: list[str]) -> pd.DataFrame:
    rows = [{"trained": tr, **{f"{k}_train_acc": mean_ci(acc.get((k, tr), {}).values()).mean
                               for k in KINDS},
             "seeds": min(len(acc.get((k, tr), {})) for k in KINDS)} for tr in (*ts, NONE)]
    return pd.DataFrame(rows, columns=["trained", *(f"{k}_train_acc" for k in KINDS), "seeds"])


def _figures(summary, matrix, ts: list[str]) -> dict:
    heat = new_figure((13, 6.2))
    for ax, kind in zip(heat.subplots(1, len(KINDS)), KINDS):
        sub = matrix[(matrix.kind == kind) & (matrix.domain == "id")]
        if sub.empty or not ts:  # nothing finished yet: an empty image would be singular
            ax.text(0.5, 0.5, f"{kind}: no finished runs", ha="center", va="center")
            ax.set_axis_off()
            continue
        im = ax.imshow(sub[ts].to_numpy(float), vmin=0, vmax=1, cmap="viridis_r")
        ax.set_xticks(range(len(ts)), ts, rotation=90, fontsize=7)
        ax.set_yticks(range(len(sub)), list(sub.trained), fontsize=7)
        ax.set_xlabel("measured transform")
        ax.set_ylabel("training transform")
        ax.set_title(f"{kind} models, in-domain normalised l2 (lower = more invariant)",
                     fontsize=9)
        heat.colorbar(im, ax=ax, shrink=0.8)
    heat.tight_layout()

    bars = new_figure((12, 3.8))
    for ax, kind in zip(bars.subplots(1, len(KINDS)), KINDS):
        sub = summary[summary.kind == kind].reset_index(drop=True)
        for k, role in enumerate(ROLES):
            xs = [i + (k - 1) * 0.27 for i in range(len(sub))]
            ax.bar(xs, sub[role].fillna(0), 0.27, yerr=sub[f"{role}_ci95"].to_numpy(float),
                   capsize=2, label=role.title())  # NaN error bars (< 2 seeds) are not drawn
            ax.scatter(xs, sub[f"authors_{role}"], marker="x", color="k", s=14, zorder=3,
                       label="authors (ResNet-18)" if k == 0 else None)
        labels = [d + ("\n(not run)" if n else "") for d, n in zip(sub.domain, sub.note)]
        ax.set_xticks(range(len(sub)), labels, fontsize=8)
        ax.set_ylabel("normalised l2 (lower = more invariant)")
        ax.set_title(f"{kind} models: invariance to the measured τ", fontsize=10)
        ax.legend(fontsize=7)
    seeds = int(summary.seeds.max()) if len(summary) else 0
    bars.suptitle(seeds_title("E3", seeds, over="τ and "), fontsize=11)
    bars.tight_layout()
    return {"e3_heatmap": heat, "e3_summary": bars}


def _claim(inv: dict, ts: list[str], summary) -> dict:
    """C7 from three parts; each needs every runnable domain of both kinds (the CIFAR ones
    count where they were measured)."""
    domains = measured_domains(inv)
    runnable = [(k, d) for k in KINDS for d, how in domains[k].items() if not isinstance(how, str)]
    cifar = sorted({d for k, d in runnable if d in CIFAR_DOMAINS})
    ps = {kd: per_seed(inv, *kd, ts) for kd in runnable}
    n = min(len(v) for v in ps.values())
    row = {(r.kind, r.domain): r for r in summary.itertuples()}
    parts, ok = [], []
    for k, d in runnable:  # (a) transfer
        v, _, ci = positive_effect([x[2] - x[0] for x in ps[(k, d)].values()], min_n=3)
        ok.append(v == "pass")
        parts.append(f"{k}/{d} {ci}")
    text = ["(a) None-Same " + "; ".join(parts) + (" -> pass" if all(ok) else " -> fail")]
    weak = []
    for k in KINDS:  # (b) weakening
        gains = [row[(k, d)].none_minus_same for d in SHIFT_ORDER[k]]
        weak.append(all(a > b for a, b in zip(gains, gains[1:])))
        text.append(f"(b) {k} None-Same along {' > '.join(SHIFT_ORDER[k])}: "
                    + " / ".join(f"{g:.3f}" for g in gains) + (" -> pass" if weak[-1]
                                                                 else " -> fail"))
    excess = {kd: row[kd].none - row[kd].other for kd in runnable}
    other_ok = all(e <= OTHER_MARGIN for e in excess.values())
    text.append("(c) None-Other " + "; ".join(f"{k}/{d} {e:.3f}" for (k, d), e in excess.items())
                + (" -> pass" if other_ok else " -> fail"))
    if n < 3:
        verdict, note = "not run", f"needs >= 3 seeds on every domain, got {n}"
    else:
        verdict, note = ("pass" if all(ok) and all(weak) and other_ok else "fail"), None
    auth = "; ".join(f"{k} ({' / '.join(AUTHORS[k])}): " + ", ".join(
        f"{role.title()} " + "/".join(f"{v[i]:.2f}" for v in AUTHORS[k].values())
        for i, role in enumerate(ROLES)) for k in KINDS)
    return claim(
        "C7", "Invariance learned to τ transfers to new objects and new domains, weakening with "
              "the shift; other transforms give no more invariance to τ than none.",
        "normalised l2, mean over the measured τ; all three parts on every runnable domain of "
        "img and rand models, >= 3 seeds: (a) transfer: None - Same > 0 with its 95% t-interval "
        "over seeds excluding 0; (b) weakening: mean None - Same strictly decreases along "
        + "; ".join(f"{k}: {' > '.join(o)}" for k, o in SHIFT_ORDER.items())
        + f"; (c) mean None - Other <= {OTHER_MARGIN} (other transforms are no more invariant "
        "than none). CIFAR domains: "
        + (f"{', '.join(cifar)} included in (a) and (c)" if cifar else "not run") + ".",
        verdict, " | ".join(text), auth, note)


def aggregate(records: list[dict], profile: str | None) -> dict:
    """Tables ``e3_summary``, ``e3_matrix``, ``e3_pretrain``; figures ``e3_heatmap`` and
    ``e3_summary``; claim C7 (from the done runs; missing ones are left out)."""
    inv, acc, ts = _parse(records)
    summary, matrix = _summary(inv, ts), _matrix(inv, ts)
    pre = _pretrain_table(acc, ts)
    z = SIZES.get(profile)
    none_acc = ", ".join(f"{k} {pre.iloc[-1][f'{k}_train_acc']:.3f}" for k in KINDS)
    domains = measured_domains(inv)
    done = [d for d in CIFAR_DOMAINS if any(domains[k][d] is None for k in KINDS)]
    if not done and not available_cifar():
        cifar_md = (f"CIFAR-10 and CIFAR-100 domains: {CIFAR_MISSING} (no CIFAR files found on "
                    f"this machine); their rows keep the authors' numbers only.")
    else:
        cifar_md = " ".join(
            f"{d}: " + ("measured on TransformedCIFAR test images (all classes, "
                        f"{z['n_inv_cifar'] if z else '?'} per transform, inputs in [-1, 1])."
                        if d in done else f"{domains['img'][d]}.") for d in CIFAR_DOMAINS)
    md = (f"E3 (docs/protocol.md §6): one model per training transform (and `none`), `img` "
          f"(30 primary builtin objects on image backgrounds) and `rand` (30 random-pixel "
          f"objects on random backgrounds); normalised-l2 invariance to every measured "
          f"transform on each domain. Same = the model trained on τ, Other = mean of those "
          f"trained on the other transforms, None = trained on none; means over τ, then over "
          f"seeds. Measured transforms: {len(ts)}. Pretraining train accuracy of the `none` "
          f"models: {none_acc} (chance {1 / N_PRIMARY:.3f}).\n\n"
          + sizes_markdown(profile, SIZES, _describe) + f"\n{cifar_md}\n")
    return {"markdown": md,
            "tables": {"e3_summary": summary, "e3_matrix": matrix, "e3_pretrain": pre},
            "figures": _figures(summary, matrix, ts),
            "claims": [_claim(inv, ts, summary)]}


def _describe(z: dict) -> str:
    return describe_sizes(z) + " per domain and transform"


@register_experiment("e3", aggregate, aliases=("it",), paper=True)
def e3(profile: str, seeds: int) -> list[RunSpec]:
    """E3 how transferable is invariance: one img and one rand model per transform and none."""
    return [c[3] for c in cells(profile, seeds)]
