"""The per-model preconditions (docs/protocol.md §10.4): did each pretrained model a claim
compares learn its source task, without memorising it — read on the weights it transferred.

Each rule is a predicate of one model's :class:`Transferred` numbers; :func:`model_check` turns
a rule and the records a claim compares into a :class:`~.preconditions.Check` naming the models
below it, and :func:`models_below` gives those models, from which a claim's sensitivity drops
seeds (docs/protocol.md §10.5).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..engine.run import build_dataset  # a dataset's definition only: nothing rendered
from ..errors import ConfigError
from ..train.stopping import still_gaining
from .preconditions import MIN_TRAIN_ACC, MIN_VAL_ACC, RULES, Check, plateaued

MEMORISATION_SHARE = 0.5  # validation must keep this share of the fit's margin over chance


@dataclass(frozen=True)
class Transferred:
    """What a model's transferred weights show (``final`` of its pretraining): ``fit`` the
    eval-mode accuracy on its fixed training subset, or the running train-mode accuracy where
    the run has no fit (``measured`` False: runs before docs/protocol.md §10.1); ``val`` its
    validation accuracy (None: none recorded); ``chance`` 1 / classes."""

    hash: str
    seed: int
    model: str
    fit: float
    measured: bool
    val: float | None
    chance: float
    history: tuple

    def label(self) -> str:
        val = "-" if self.val is None else f"{self.val:.3f}"
        return f"seed {self.seed} {self.model} {self.hash[:8]} (fit {self.fit:.3f}, val {val})"


def transferred(record: Mapping) -> Transferred | None:
    """The :class:`Transferred` numbers of a record (None: no pretraining result)."""
    pre = record["result"].get("pretrain") or {}
    final = pre.get("final") or {}
    if final.get("train_acc") is None:
        return None
    measured = final.get("fit_acc") is not None
    spec = record["spec"].to_dict() if record.get("spec") is not None else \
        record["result"]["spec"]
    classes = pre.get("num_classes") or _classes(json.dumps(spec["source"], sort_keys=True))
    return Transferred(record["hash"], int(spec["seed"]), str(spec["model"]),
                       final["fit_acc"] if measured else final["train_acc"], measured,
                       final.get("val_acc"), 1.0 / classes if classes else 0.0,
                       tuple(pre.get("history") or ()))


@functools.cache
def _classes(source_json: str) -> int | None:
    """The number of classes of a stored run's source (runs before results recorded it); None
    where its data cannot be found here (CIFAR moved away): chance is then taken as 0."""
    try:
        return build_dataset(json.loads(source_json), "train").num_classes
    except ConfigError:
        return None


def _fit(t: Transferred) -> bool:
    return t.fit >= MIN_TRAIN_ACC or not still_gaining(t.history)


def _memorisation(t: Transferred) -> bool:
    return t.val is not None and t.val - t.chance >= MEMORISATION_SHARE * (t.fit - t.chance)


def _held_out(t: Transferred) -> bool:
    return t.val is not None and t.val >= MIN_VAL_ACC


def _learned_or_capped(t: Transferred) -> bool:
    learned = t.fit >= MIN_TRAIN_ACC and _held_out(t)
    return learned or plateaued(list(t.history), "val_acc")


#: rule name -> whether one model meets it (the rules' texts: preconditions.RULES)
MODEL_RULES: dict[str, Callable[[Transferred], bool]] = {
    "fit": _fit, "memorisation": _memorisation, "held-out": _held_out,
    "learned-or-capped": _learned_or_capped}


def compared_models(records: Iterable[Mapping]) -> list[Transferred]:
    """The :class:`Transferred` numbers of each pretrained model of ``records``, once."""
    unique = {r["hash"]: r for r in records}.values()  # a run shared by cells counts once
    return [t for t in map(transferred, unique) if t is not None]


def models_below(names: Iterable[str], records: Iterable[Mapping]) -> list[Transferred]:
    """The models of ``records`` that miss any of the per-model rules ``names`` (others are
    ignored)."""
    rules = [MODEL_RULES[n] for n in names if n in MODEL_RULES]
    return [t for t in compared_models(records) if not all(rule(t) for rule in rules)]


def model_check(name: str, records: Iterable[Mapping]) -> Check:
    """Whether every model of ``records`` meets the rule ``name``, naming those that do not."""
    models = compared_models(records)
    if not models:
        return Check(name, RULES[name], "no results", False)
    below = [t for t in models if not MODEL_RULES[name](t)]
    vals = [t.val for t in models if t.val is not None]
    text = (f"lowest fit {min(t.fit for t in models):.3f}, lowest validation "
            + (f"{min(vals):.3f}" if vals else "-") + f"; {len(below)} of {len(models)} "
            f"model(s) below")
    if below:
        text += ": " + ", ".join(t.label() for t in sorted(below, key=lambda t: t.seed)[:6])
        text += f" and {len(below) - 6} more" if len(below) > 6 else ""
    bare = sum(not t.measured for t in models)
    if bare:
        text += f"; {bare} without a fit on the transferred weights (running accuracy read)"
    return Check(name, RULES[name], text, not below)
