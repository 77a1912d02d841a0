"""When pretraining stops: the declared rules (docs/protocol.md §10.2).

Every rule reads the *fit* accuracy of an epoch: the eval-mode accuracy of that epoch's weights on
a fixed training subset (``fit_acc``, :attr:`~transforms2d.train.TrainConfig.fit_samples`), or,
for a configuration without one, the running train-mode accuracy of the epoch's batches
(``train_acc``, what every run before the rule stored).

- **Ceiling** (``stop_train_acc``): stop once ``stop_patience`` consecutive epochs reach it.
- **Cap** (``epochs``): the planned length. With ``extend_epochs > 0`` a model still learning at
  the cap trains on, one epoch at a time, while its best fit accuracy of the last
  :data:`EXTEND_WINDOW` epochs exceeds the best before them by at least :data:`EXTEND_GAIN`,
  and for at most ``extend_epochs`` more epochs. Every model of a comparison has the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

EXTEND_WINDOW = 10  # epochs over which a model past its cap must still gain ...
EXTEND_GAIN = 0.005  # ... this much fit accuracy (the best of the window over the best before)

#: Why training ended, with how a log says it: the ceiling was held, the planned epochs ran (no
#: extension, or a model no longer gaining at the cap), or the extension ran out while the model
#: still gained.
STOP_REASONS = {"ceiling": "stopped at the accuracy ceiling", "cap": "the epoch cap",
                "converged": "past the cap until it stopped gaining",
                "extension exhausted": "past the cap, still gaining when the extension ran out"}


def fit_accuracy(row: Mapping) -> float:
    """The fit accuracy of a history row: ``fit_acc`` where measured, else ``train_acc``."""
    return row["fit_acc"] if row.get("fit_acc") is not None else row["train_acc"]


def at_ceiling(history: Sequence[Mapping], cfg) -> bool:
    """Whether the last ``cfg.stop_patience`` epochs all reached ``cfg.stop_train_acc``."""
    k = cfg.stop_patience
    return cfg.stop_train_acc is not None and len(history) >= k and all(
        fit_accuracy(row) >= cfg.stop_train_acc for row in history[-k:])


def still_gaining(history: Sequence[Mapping], window: int = EXTEND_WINDOW,
                  gain: float = EXTEND_GAIN) -> bool:
    """Whether the best fit accuracy of the last ``window`` epochs beats the best before them
    by ``gain`` or more (True while there are not yet more than ``window`` epochs)."""
    acc = [fit_accuracy(row) for row in history]
    if len(acc) <= window:
        return True
    return max(acc[-window:]) - max(acc[:-window]) >= gain


def stop_reason(history: Sequence[Mapping], cfg) -> str | None:
    """Why training stops after ``history``'s epochs (one of :data:`STOP_REASONS`), or None
    while it goes on."""
    done = len(history)
    if at_ceiling(history, cfg):
        return "ceiling"
    if done < cfg.epochs:
        return None
    if cfg.extend_epochs == 0:
        return "cap"
    if not still_gaining(history):
        return "converged" if done > cfg.epochs else "cap"
    return "extension exhausted" if done >= cfg.epochs + cfg.extend_epochs else None
