"""Builders of fake run results for the study's aggregation tests: the fields the
preconditions read (``transforms2d.study.preconditions``) with values that meet them, unless a
test asks otherwise. A fair test needs 5 seeds, every model at >= 0.95 training accuracy and
converged probes."""

from __future__ import annotations

FAIR_SEEDS = 5  # preconditions.MIN_SEEDS
CONVERGED = [0.05 + 2.0 * 0.7 ** i for i in range(40)]  # a probe loss that settled long ago
STILL_FALLING = [2.0 - 0.02 * i for i in range(40)]  # a probe loss still falling ~2% an epoch


def pretrain(train_acc: float = 0.99, epochs: int = 8, val_acc: float | None = None,
             classes: int = 10) -> dict:
    """A pretraining result: ``train_acc`` (and validation accuracy ``val_acc``, by default
    the same) at the last epoch, reached by a steady rise, on a source of ``classes``."""
    val = train_acc if val_acc is None else val_acc
    history = [{"epoch": i, "loss": 1.0 / (i + 1), "train_acc": train_acc * (i + 1) / epochs,
                "val_acc": val * (i + 1) / epochs} for i in range(epochs)]
    return {"history": history, "final": dict(history[-1]), "stopped_early": False,
            "num_classes": classes}


def plateau(train_acc: float, epochs: int = 12) -> dict:
    """A pretraining result below the threshold whose training accuracy stopped rising (the
    E3 plateau rule, on held-out data): the last half of the epochs all at ``train_acc``, the
    validation accuracy alike."""
    history = [{"epoch": i, "train_acc": train_acc * min(1.0, (i + 1) / (epochs // 2)),
                "val_acc": train_acc * min(1.0, (i + 1) / (epochs // 2))}
               for i in range(epochs)]
    return {"history": history, "final": dict(history[-1]), "stopped_early": False,
            "num_classes": 30}


def probe(test_acc: float, curve: list[float] | None = None, finetune: dict | None = None
          ) -> dict:
    """A probe result: ``test_acc``, a converged loss curve (or ``curve``) and, if given, the
    fine-tuning result ``finetune`` (``{"test_acc", "train_acc"}``)."""
    out = {"train_acc": test_acc, "val_acc": None, "test_acc": test_acc,
           "loss_curve": list(CONVERGED if curve is None else curve)}
    if finetune is not None:
        out["finetune"] = {"val_acc": None, "train_acc_curve": [finetune["train_acc"]],
                           **finetune}
    return out


def verdicts(out: dict) -> dict[str, str]:
    """``{claim id: verdict}`` of an aggregate's output."""
    return {c["id"]: c["verdict"] for c in out["claims"]}


def unmet(claim: dict) -> list[str]:
    """The names of a claim's unmet preconditions."""
    return [p["name"] for p in claim["preconditions"] if not p["met"]]


def declared(claim: dict) -> list[str]:
    """The preconditions the claim registry lists for a claim row (``C6 CIFAR-10``: C6's; the
    CIFAR check ``C1-C3 ...``: C1's)."""
    from transforms2d.study.claims import CLAIMS

    cid = claim["id"].split(" ")[0].split("-")[0]
    return list(CLAIMS[cid].preconditions)


def names(claim: dict) -> list[str]:
    """The names of the preconditions a claim row checks, in order."""
    return [p["name"] for p in claim["preconditions"]]
