"""The profile loop: for every domain and transform (and strength level), render each batch of
pairs once, embed it with every model (and its untrained reference) at every requested layer,
then compute each metric with its bootstrap interval.

Random partners are the invariance metric's (a derangement per batch drawn from
``(seed, "invariance", batch)``, :func:`~transforms2d.metrics.invariance_many`), so a model's
default-layer value on a domain equals ``metrics.invariance`` on the same data.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..errors import ConfigError
from ..metrics import linear_cka
from ..metrics.functional import PAIR_SCORES, derangement, pair_scores, ratio
from ..rng import derive_key
from .domains import build_pair, domain_label
from .layers import Representation
from .stats import bootstrap_weights, cka_interval, ratio_interval

#: Bytes of kept features above which CKA is refused (every pair's features of every layer).
CKA_MEMORY = 4 * 2**30


@dataclass
class Task:
    """One cell of the profile: a domain, a transform and its strength level."""

    domain: str
    arg: str | None
    transform: str
    level: float | None
    overrides: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        lv = "" if self.level is None else f" @ {self.level:g}"
        return f"{domain_label(self.domain, self.arg)} / {self.transform}{lv}"


class _Collector:
    """Per (entry, layer): per-pair scores of each ratio metric, and features for CKA."""

    def __init__(self, ratios: tuple[str, ...], keep: bool) -> None:
        self.ratios, self.keep = ratios, keep
        self.scores: dict[str, tuple[list, list]] = {m: ([], []) for m in ratios}
        self.z1: list[torch.Tensor] = []
        self.z2: list[torch.Tensor] = []

    def add(self, z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor) -> None:
        for m in self.ratios:
            s, r = pair_scores(z1, z2, perm, m)
            self.scores[m][0].append(s.cpu())
            self.scores[m][1].append(r.cpu())
        if self.keep:
            self.z1.append(z1.cpu())
            self.z2.append(z2.cpu())

    def results(self, metrics: tuple[str, ...], w: torch.Tensor) -> dict[str, tuple]:
        out = {}
        for m in self.ratios:
            s, r = torch.cat(self.scores[m][0]), torch.cat(self.scores[m][1])
            out[m] = (ratio(float(s.mean()), float(r.mean())), *ratio_interval(s, r, w))
        if "cka" in metrics:
            z1, z2 = torch.cat(self.z1), torch.cat(self.z2)
            out["cka"] = (linear_cka(z1, z2), *cka_interval(z1, z2, w))
        return out


class Clock:
    """``with clock("stage"):`` adds the block's wall seconds to ``timings["stage"]``."""

    def __init__(self, timings: dict) -> None:
        self.timings = timings

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0


def batches(n: int, batch_size: int) -> list[torch.Tensor]:
    """Index batches of ``batch_size`` (as the invariance metric's), except that a last batch
    of one sample, which has no random partner, takes one sample from the batch before."""
    bounds = list(range(0, n, batch_size)) + [n]
    if n > 1 and n - bounds[-2] == 1:
        bounds[-2] -= 1
    return [torch.arange(a, b) for a, b in zip(bounds, bounds[1:])]


def run_task(task: Task, entries: list[tuple[str, bool, Representation]], size: int,
             pairs: int, metrics: tuple[str, ...], seed: int, batch_size: int,
             resamples: int, device, timings: dict | None = None) -> list[dict]:
    """Rows ``{model, untrained, layer, domain, transform, level, metric, value, ci_low,
    ci_high}`` of one task for every entry ``(model name, is reference, representation)``;
    seconds spent rendering, embedding and on the metrics are added to ``timings``."""
    clock = Clock(timings if timings is not None else {})
    transforms = [(task.transform, task.overrides)]
    ds, twin = build_pair(task.domain, task.arg, transforms, pairs, seed, size, device)
    ratios = tuple(m for m in metrics if m in PAIR_SCORES)
    cols = {(k, layer): _Collector(ratios, "cka" in metrics)
            for k, (_, _, rep) in enumerate(entries) for layer in rep.layers}
    n = len(ds)
    for b, idx in enumerate(batches(n, batch_size)):
        with clock("render"):
            x1, _ = ds.render(idx)
            x2, _ = twin.render(idx)
        perm = derangement(len(idx), torch.Generator().manual_seed(
            derive_key(seed, "invariance", b)))
        for k, (_, _, rep) in enumerate(entries):
            with clock("embed"):
                z1, z2 = rep(x1), rep(x2)
            with clock("metrics"):
                for layer in rep.layers:
                    cols[(k, layer)].add(z1[layer], z2[layer], perm)
    with clock("metrics"):
        w = bootstrap_weights(n, resamples, derive_key(seed, "bootstrap", task.label))
        done = {key: col.results(metrics, w) for key, col in cols.items()}
    rows = []
    for (k, layer), res in done.items():
        name, untrained, _ = entries[k]
        for metric, (value, lo, hi) in res.items():
            rows.append(dict(model=name, untrained=untrained, layer=layer,
                             domain=domain_label(task.domain, task.arg),
                             transform=task.transform, level=task.level, metric=metric,
                             value=value, ci_low=lo, ci_high=hi))
    return rows


def check_memory(entries, pairs: int, metrics) -> None:
    """Refuse a CKA profile whose kept features would not fit :data:`CKA_MEMORY`."""
    if "cka" not in metrics:
        return
    dims = sum(int(d) for _, _, rep in entries for d in rep.dims)
    need = 2 * 4 * pairs * dims
    if need > CKA_MEMORY:
        raise ConfigError(f"CKA keeps every pair's features: {need / 2**30:.1f} GiB for "
                          f"{pairs} pairs over {dims} dims in all; pass fewer --pairs or "
                          f"--layers, or --metrics l2,cos.")


def run_tasks(tasks: list[Task], entries, size: int, pairs: int, metrics, seed: int,
              batch_size: int, resamples: int, device,
              advance: Callable[[Task], None] = lambda t: None,
              timings: dict | None = None) -> list[dict]:
    """All tasks in order; ``advance(task)`` is called after each (progress)."""
    rows = []
    for task in tasks:
        rows += run_task(task, entries, size, pairs, metrics, seed, batch_size, resamples,
                         device, timings)
        advance(task)
    return rows
