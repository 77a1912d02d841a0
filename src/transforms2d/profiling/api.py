"""``transforms2d.profile``: what is a model invariant to? For example::

    import transforms2d as t2d
    res = t2d.profile("runs/abc/pretrain.pt", transforms="rotate,hue", pairs=500)
    res.to_frame().query("metric == 'l2'")
    res.save("profile")
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from ..metrics.measure import _check_metrics
from ..transforms import get_transform, transform_names
from ..validation import check_device, check_int, comma_items
from .adapters import LoadedModel, load_model
from .domains import build_pair, domain_label, parse_domains
from .layers import Representation
from .measure import Task, check_memory, run_tasks
from .output import write_profile
from .sweeps import check_levels, sweep_tasks

DEFAULT_METRICS = ("l2", "cos", "cka")
COLUMNS = ("model", "untrained", "layer", "domain", "transform", "level", "metric", "value",
           "ci_low", "ci_high")


@dataclass
class ProfileResult:
    """A finished profile: one row per (model, layer, domain, transform, level, metric).

    Attributes:
        rows: dicts with the keys of :data:`COLUMNS`; ``untrained`` marks the reference network
            of a model (same architecture, untrained); ``level`` is ``None`` for the paper's
            parameters, else the strength level in (0, 1].
        models: one dict per model: name, kind, input size, mean/std, representation,
            reference.
        settings: the arguments the profile ran with.
        timings: wall seconds spent rendering, embedding (every model and reference) and on
            pair scores, CKA and the bootstrap (``metrics``), and in all (``total``).
    """

    rows: list[dict]
    models: list[dict]
    settings: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_frame(self):
        """The rows as a tidy pandas DataFrame (columns :data:`COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(COLUMNS))

    def to_json(self) -> str:
        return json.dumps({"settings": self.settings, "models": self.models,
                           "timings": self.timings, "rows": self.rows}, indent=1,
                          allow_nan=True)

    def save(self, out: str | os.PathLike) -> list[str]:
        """Write profile.json, profile.parquet, summary.md and figures/ under ``out``;
        returns the paths written."""
        return write_profile(self, out)


def _as_models(models, weights, pretrained: bool = False,
               image_size: int | None = None) -> list[LoadedModel]:
    def load(m, name=None):
        return m if isinstance(m, LoadedModel) else load_model(m, weights, name, pretrained,
                                                               image_size)

    if isinstance(models, Mapping):
        out = [load(m, str(k)) for k, m in models.items()]
        for k, m in zip(models, out):
            m.name = str(k)
        return out
    if isinstance(models, str | os.PathLike | nn.Module | LoadedModel):
        models = [models]
    out = [load(m) for m in models]
    if not out:
        raise ConfigError("No model given; pass a checkpoint, a TorchScript/export file, "
                          "'package.module:factory', 'timm:<name>' or 'torchvision:<name>'.")
    names = [m.name for m in out]
    for k, m in enumerate(out):  # two files called last.pt: keep both, name them apart
        if names.count(m.name) > 1:
            m.name = f"{m.name}#{k + 1}"
    return out


def _transforms(transforms) -> list[str]:
    if transforms is None or transforms == "all":
        return list(transform_names())
    items = comma_items(transforms)
    if not items:
        raise ConfigError("No transform given; pass some of the 18 (or 'all').")
    return [get_transform(t).name for t in items]


def _entries(models: list[LoadedModel], size_of: Callable[[LoadedModel], int], layer, layers,
             reference: bool, seed: int, device):
    """``[(name, untrained, representation, input size)]`` per model and reference, and
    ``{model: model}`` for models whose reference is another's (measured once, copied)."""
    out, shared, seen = [], {}, {}
    for m in models:
        size = size_of(m)
        if m.kind != "export" or torch.device(device).type != "cpu":
            m.module.to(device)
        probe = torch.zeros(2, 3, size, size, device=device)
        out.append((m.name, False, Representation(m, probe, layer, layers), size))
        key = None if m.reference_key is None else (m.reference_key, size, m.mean, m.std)
        if reference and key is not None and key in seen:
            shared[m.name] = seen[key]
            continue
        if key is not None:
            seen[key] = m.name
        if reference and m.reference is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                net = m.reference().to(device).eval()
            ref = LoadedModel(net, m.name, m.kind, m.input_size, m.mean, m.std, m.hookable)
            out.append((m.name, True, Representation(ref, probe, layer, layers), size))
    return out, shared


@dataclass(frozen=True)
class _Arguments:
    """The checked arguments of :func:`profile` that are not about the models.

    Attributes:
        transforms: registry names; domains: ``(name, argument)`` pairs; metrics: names;
        levels: the strength sweep (empty: none); device: where the work runs; the rest as
        given to :func:`profile`.
    """

    transforms: list[str]
    domains: list
    metrics: tuple[str, ...]
    levels: tuple[float, ...]
    pairs: int
    layer: str | None
    layers: str | int | None
    seed: int
    batch_size: int
    resamples: int
    device: torch.device

    @classmethod
    def check(cls, transforms, domains, metrics, levels, pairs, layer, layers, seed,
              batch_size, resamples, device) -> _Arguments:
        names = _transforms(transforms)
        doms = parse_domains(domains)
        mets = _check_metrics(comma_items(metrics))
        check_int("pairs", pairs, 2)
        check_int("batch_size", batch_size, 2)
        check_int("resamples", resamples, 1)
        dev = check_device("device", device)
        lv = check_levels(levels) if levels else ()
        return cls(names, doms, mets, lv, pairs, layer, layers, seed, batch_size, resamples,
                   dev)

    def settings(self) -> dict[str, Any]:
        """:attr:`ProfileResult.settings`."""
        return dict(transforms=self.transforms,
                    domains=[domain_label(d, a) for d, a in self.domains], pairs=self.pairs,
                    levels=list(self.levels), metrics=list(self.metrics), layer=self.layer,
                    layers=self.layers, seed=self.seed, batch_size=self.batch_size,
                    resamples=self.resamples, device=str(self.device),
                    interval="95% percentile bootstrap over pairs "
                             f"({self.resamples} resamples)")


def _input_sizes(loaded: list[LoadedModel], mean, std,
                 image_size: int | None) -> dict[int, int]:
    """Set each model's ``mean`` / ``std`` where given (checked: 3 values, std > 0); returns
    ``{id(model): input side}`` (``image_size``, else the model's, else the default)."""
    for m in loaded:
        if mean is not None:
            m.mean = tuple(float(v) for v in mean)
        if std is not None:
            m.std = tuple(float(v) for v in std)
        if len(m.mean) != 3 or len(m.std) != 3 or min(m.std) <= 0:
            raise ConfigError(f"mean and std need 3 values each, std > 0; got {m.mean} and "
                              f"{m.std} for '{m.name}'.")
    return {id(m): check_int("image_size", image_size or m.input_size or DEFAULT_IMAGE_SIZE, 8)
            for m in loaded}


def _check_before_work(args: _Arguments, entries: list) -> None:
    """Fail before any work: too little memory for the pairs, or a domain that cannot render
    (a bad folder)."""
    check_memory([e[:3] for e in entries], args.pairs, args.metrics)
    for name, arg in args.domains:
        build_pair(name, arg, [args.transforms[0]], args.pairs, args.seed, 8, args.device)


def _measure(args: _Arguments, entries: list, progress: Callable[[str, int], None] | None,
             timings: dict[str, float]) -> list[dict]:
    """The rows of every (domain, transform, level) task for every entry, one pass over the
    tasks per input size; adds the stage timings to ``timings``."""
    tasks = [Task(d, a, t, L, o) for d, a in args.domains
             for t, L, o in sweep_tasks(args.transforms, args.levels)]
    by_size: dict[int, list] = {}
    for e in entries:
        by_size.setdefault(e[3], []).append(e[:3])
    if progress:
        progress("profile", len(tasks) * len(by_size))
    rows: list[dict] = []
    for size, group in by_size.items():
        rows += run_tasks(tasks, group, size, args.pairs, args.metrics, args.seed,
                          args.batch_size, args.resamples, args.device,
                          advance=(lambda t: progress(t.label, -1)) if progress else
                          (lambda t: None), timings=timings)
    return rows


def _model_info(loaded: list[LoadedModel], entries: list, sizes: dict[int, int],
                reference: bool) -> list[dict]:
    """:attr:`ProfileResult.models`: one dict per model."""
    return [dict(name=m.name, kind=m.kind, input_size=sizes[id(m)], mean=list(m.mean),
                 std=list(m.std), representation=e[2].note, reference=m.reference_note
                 if reference else "not requested", note=m.note)
            for m in loaded for e in entries if e[0] == m.name and not e[1]]


def profile(models, transforms: str | Sequence[str] | None = None,
            domains: str | Sequence[str] = "objects,random", pairs: int = 1000,
            levels: int | Sequence[float] | None = None,
            metrics: str | Sequence[str] = DEFAULT_METRICS, layer: str | None = None,
            layers: str | int | None = None, image_size: int | None = None,
            weights: str | None = None, pretrained: bool = False,
            mean: Sequence[float] | None = None,
            std: Sequence[float] | None = None, reference: bool = True, seed: int = 0,
            batch_size: int = 250, resamples: int = 1000, device: str = "cpu",
            progress: Callable[[str, int], None] | None = None) -> ProfileResult:
    """The invariance profile of one or several models.

    Args:
        models: one model or a list / ``{name: model}`` of them: a transforms2d checkpoint,
            a TorchScript or ``torch.export`` file, ``"package.module:factory"``,
            ``"timm:<name>"``, ``"torchvision:<name>"``, or an ``nn.Module``.
        transforms: transform names (default: the 18), a list or ``"rotate,hue"``.
        domains: ``"objects"``, ``"random"``, ``"folder:PATH"`` (comma list or list).
        pairs: image pairs per (domain, transform, level).
        levels: strength sweep: an int N (N evenly spaced levels in (0, 1]) or the levels;
            each transform with a magnitude is then also profiled at every level.
        metrics: a list or comma string from ``l2`` (lower = more invariant), ``cos``,
            ``dot`` (higher = more invariant) and ``cka`` (1 = same up to rotation and scale);
            definitions: docs/profiling.md.
        layer: a module name (``"head:in"`` for a module's input), ``"features()"`` or
            ``"output"``; default: ``features()``, else the input of the last ``nn.Linear``.
        layers: ``"all"`` or N: every (N-th) block, for invariance by depth.
        image_size: input side (default: the model's, else 32); a timm model with a fixed
            input size (a ViT) is built at it.
        weights: state dict loaded into an entry point's, timm's or torchvision's model.
        pretrained: timm and torchvision models get their zoo's weights (a download);
            default: random initialisation (torch seed 0) unless ``weights``.
        mean, std: the model's per-channel input normalisation in [0, 1] units (default: the
            model's, else 0.5 / 0.5, Transforms-2D's).
        reference: also profile each model's untrained twin (same architecture).
        seed: seeds the images, transform parameters, partners, references and bootstrap.
        batch_size: pairs rendered and embedded at once.
        resamples: bootstrap resamples of the 95% intervals (over pairs).
        device: where images are rendered and models run.
        progress: ``progress(label, total)`` is called before the work (``total`` tasks) and
            ``progress(label, -1)`` after each task.

    Returns:
        a :class:`ProfileResult`.
    """
    t_start = time.perf_counter()
    args = _Arguments.check(transforms, domains, metrics, levels, pairs, layer, layers, seed,
                            batch_size, resamples, device)
    loaded = _as_models(models, weights, pretrained, image_size)
    sizes = _input_sizes(loaded, mean, std, image_size)
    entries, shared = _entries(loaded, lambda m: sizes[id(m)], layer, layers, reference, seed,
                               args.device)
    _check_before_work(args, entries)
    timings: dict[str, float] = {}
    rows = _measure(args, entries, progress, timings)
    info = _model_info(loaded, entries, sizes, reference)
    rows += [{**r, "model": name} for name, src in shared.items() for r in list(rows)
             if r["model"] == src and r["untrained"]]
    timings["total"] = time.perf_counter() - t_start
    return ProfileResult(rows, info, args.settings(), timings)
