"""Linear probes: a fresh linear head on a frozen backbone (docs/protocol.md §4).

``linear_probe`` computes the backbone's features once — ``views`` augmented views of the
training set and the fixed val and test sets — and fits the head on the cached tensors: by
default to optimality (``solver="lbfgs"``: the L2-regularised softmax regression of
:mod:`.logistic`, whose convergence is the solver's own gradient test), or with the paper's
Adam epochs (``solver="adam"``). ``reference_probe`` is the paper's procedure: every epoch
renders fresh training views and runs them through the frozen network. The Adam paths use
the same head initialisation, the same sample order per epoch (``Transforms2D.order``) and
Adam, so they differ only in how many distinct augmentations the head sees;
``benchmarks/bench_probe.py`` compares them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data.batched import BatchedDataset
from ..metrics import macro_accuracy
from .config import ProbeConfig, resolve_device
from .features import FeatureCache, extract_features
from .logistic import fit_logistic
from .progress import progress_bar


@dataclass
class ProbeResult:
    """Macro accuracies of the fitted head, the head itself and the wall time in seconds; for
    the L-BFGS solver how its solve ended (``solver``: :class:`~.logistic.SolverInfo` as a
    dict, the convergence check reads it), for Adam the mean training loss of every epoch
    (``loss_curve``) and the head's accuracies at :data:`ACC_POINTS` evenly spaced epochs
    (``acc_curve``: ``{"epoch": epochs done, "train_acc", "val_acc", "test_acc"}``; both
    curves feed the convergence check of Adam probes). ``train_acc`` is on the first view."""

    train_acc: float
    val_acc: float | None
    test_acc: float | None
    head: nn.Linear
    seconds: float
    loss_curve: list[float] = field(default_factory=list)
    acc_curve: list[dict] = field(default_factory=list)
    solver: dict | None = None

    def to_dict(self) -> dict:
        return {"train_acc": self.train_acc, "val_acc": self.val_acc,
                "test_acc": self.test_acc, "seconds": self.seconds,
                "loss_curve": self.loss_curve, "acc_curve": self.acc_curve,
                **({"solver": self.solver} if self.solver is not None else {})}


#: How many evenly spaced epochs of a cached-feature probe record the head's accuracies (every
#: 5%: the last 10% window of the convergence check starts on one of them).
ACC_POINTS = 20


def new_head(num_features: int, num_classes: int, seed: int, device) -> nn.Linear:
    """A linear head with PyTorch's default init drawn from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    head = nn.Linear(num_features, num_classes)
    bound = 1.0 / math.sqrt(num_features)
    with torch.no_grad():
        head.weight.copy_(torch.rand(head.weight.shape, generator=g) * 2 * bound - bound)
        head.bias.copy_(torch.rand(head.bias.shape, generator=g) * 2 * bound - bound)
    return head.to(device)


def _head_accuracy(head: nn.Linear, feats: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    with torch.no_grad():
        return macro_accuracy(head(feats).argmax(1).cpu(), labels.cpu(), k)


class HeadFitter:
    """Adam on a linear head with softmax cross-entropy, gradients in closed form.

    Same update as ``torch.optim.Adam`` (β = 0.9, 0.999; ε = 1e-8; bias correction) on the mean
    cross-entropy of a minibatch, without autograd: weight and bias live in one matrix
    ``(C, D + 1)`` applied to features with a ones column, so a step is about ten small tensor
    ops and hundreds of epochs on cached features cost little next to one backbone pass.
    """

    def __init__(self, head: nn.Linear, lr: float) -> None:
        self.head, self.lr, self.t = head, lr, 0
        self.p = torch.cat([head.weight.data, head.bias.data[:, None]], 1)
        self.m, self.v = torch.zeros_like(self.p), torch.zeros_like(self.p)

    @staticmethod
    def prepare(f: torch.Tensor, y: torch.Tensor, num_classes: int):
        """Features with a ones column ``(N, D + 1)`` and one-hot labels ``(N, C)``."""
        ones = torch.ones(len(f), 1, device=f.device, dtype=f.dtype)
        return torch.cat([f, ones], 1), F.one_hot(y, num_classes).to(f.dtype)

    def step(self, fa: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        """One Adam step on prepared features ``fa (B, D + 1)`` and ``onehot (B, C)``; returns
        the summed cross-entropy of the minibatch before the step (a 0-d tensor)."""
        # Class-major (C, B) logits: these matmul shapes are 2x faster on CPU than (B, C).
        prob = torch.softmax(self.p @ fa.t(), dim=0)
        loss = -(prob * onehot.t()).sum(0).clamp_min_(1e-30).log_().sum()
        g = prob.sub_(onehot.t()).div_(len(fa))  # dCE/dlogits
        grad = g @ fa
        self.t += 1
        c1, c2 = 1 - 0.9**self.t, 1 - 0.999**self.t
        self.m.mul_(0.9).add_(grad, alpha=0.1)
        self.v.mul_(0.999).addcmul_(grad, grad, value=0.001)
        self.p.addcdiv_(self.m, self.v.div(c2).sqrt_().add_(1e-8), value=-self.lr / c1)
        return loss

    def accuracy(self, fa: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
        """Macro accuracy of the current weights on prepared features ``fa (N, D + 1)``."""
        with torch.no_grad():
            return macro_accuracy((self.p @ fa.t()).argmax(0).cpu(), labels.cpu(), num_classes)

    def finish(self) -> nn.Linear:
        """Write the fitted weights back into the head and return it."""
        with torch.no_grad():
            self.head.weight.copy_(self.p[:, :-1])
            self.head.bias.copy_(self.p[:, -1])
        return self.head


def _eval_sets(cache: FeatureCache, val_ds, test_ds):
    return [None if ds is None else cache.features(ds, 0) for ds in (val_ds, test_ds)]


def _result(head, train, val, test, k, t0, curve, acc_curve=None, solver=None) -> ProbeResult:
    accs = [None if s is None else _head_accuracy(head, *s, k) for s in (val, test)]
    return ProbeResult(_head_accuracy(head, *train, k), accs[0], accs[1], head,
                       time.perf_counter() - t0, curve, acc_curve or [], solver)


def _accuracy_point(fitter: HeadFitter, epoch: int, sets: dict, k: int) -> dict:
    """The head's accuracies after ``epoch`` epochs on each prepared set (None where absent)."""
    return {"epoch": epoch, **{f"{name}_acc": None if s is None else fitter.accuracy(*s, k)
                               for name, s in sets.items()}}


def linear_probe(model: nn.Module, train_ds: BatchedDataset,
                 val_ds: BatchedDataset | None = None, test_ds: BatchedDataset | None = None,
                 cfg: ProbeConfig | None = None, cache: FeatureCache | None = None
                 ) -> ProbeResult:
    """Fit a linear head on cached features of the frozen ``model`` (``model`` is unchanged).

    ``cfg.solver="lbfgs"``: the L2-regularised softmax regression on the features of all
    ``cfg.views`` views at once, solved to ``cfg.tol``. ``"adam"``: epoch ``e`` trains on view
    ``e % cfg.views`` of the training set, in the order ``train_ds.order(e)``, minibatches of
    ``cfg.batch_size``, Adam ``cfg.lr``. ``cache``, a :class:`FeatureCache` of ``model``, reuses
    features already computed for the same data (e.g. one test set shared by several probes
    of a run).
    """
    t0 = time.perf_counter()
    cfg = cfg or ProbeConfig()
    device = resolve_device(cfg.device)
    model.to(device)
    cache = cache if cache is not None else FeatureCache(model, cfg.eval_batch_size)
    views = [cache.features(train_ds, v) for v in range(cfg.views)]
    val, test = _eval_sets(cache, val_ds, test_ds)
    k = train_ds.num_classes
    head = new_head(views[0][0].shape[1], k, cfg.seed, device)
    if cfg.solver == "lbfgs":
        f = torch.cat([v[0] for v in views])
        y = torch.cat([v[1] for v in views])
        weight, bias, info = fit_logistic(f, y, k, cfg.l2, cfg.tol, cfg.max_iter)
        with torch.no_grad():
            head.weight.copy_(weight)
            head.bias.copy_(bias)
        return _result(head, views[0], val, test, k, t0, [], solver=info.to_dict())
    curve, acc_curve = _fit_adam(head, views, val, test, train_ds, cfg, device)
    return _result(head, views[0], val, test, k, t0, curve, acc_curve)


def _fit_adam(head: nn.Linear, views, val, test, train_ds: BatchedDataset, cfg: ProbeConfig,
              device) -> tuple[list[float], list[dict]]:
    """The Adam epochs of :func:`linear_probe` (writes the fitted weights into ``head``):
    the loss of every epoch and the accuracies at :data:`ACC_POINTS` epochs."""
    k = train_ds.num_classes
    fitter = HeadFitter(head, cfg.lr)
    prepared = [HeadFitter.prepare(f, y, k) for f, y in views]
    tracked = {name: None if s is None else (HeadFitter.prepare(*s, k)[0], s[1])
               for name, s in (("train", views[0]), ("val", val), ("test", test))}
    every = max(1, cfg.epochs // ACC_POINTS)
    n, curve, acc_curve = len(train_ds), [], []
    with progress_bar(cfg.progress, "probe (cached features)", cfg.epochs) as bar:
        for epoch in range(cfg.epochs):
            order = train_ds.order(epoch).to(device)
            fa, onehot = (t.index_select(0, order) for t in prepared[epoch % cfg.views])
            total = sum(fitter.step(fa[i:i + cfg.batch_size], onehot[i:i + cfg.batch_size])
                        for i in range(0, n, cfg.batch_size))
            curve.append(float(total) / n)
            if (epoch + 1) % every == 0 or epoch + 1 == cfg.epochs:
                acc_curve.append(_accuracy_point(fitter, epoch + 1, tracked, k))
            bar.advance()
    fitter.finish()
    return curve, acc_curve


def reference_probe(model: nn.Module, train_ds: BatchedDataset,
                    val_ds: BatchedDataset | None = None, test_ds: BatchedDataset | None = None,
                    cfg: ProbeConfig | None = None) -> ProbeResult:
    """The paper's probe: every epoch, fresh training views through the frozen network."""
    t0 = time.perf_counter()
    cfg = cfg or ProbeConfig()
    device = resolve_device(cfg.device)
    model.to(device)
    model_was_training = model.training
    model.eval()
    val, test = _eval_sets(FeatureCache(model, cfg.eval_batch_size), val_ds, test_ds)
    k = train_ds.num_classes
    head = fitter = None
    curve = []
    with progress_bar(cfg.progress, "probe (reference)", cfg.epochs) as bar:
        for epoch in range(cfg.epochs):
            total = 0.0
            for xb, yb in train_ds.loader(cfg.batch_size, shuffle=True, epoch=epoch):
                with torch.no_grad():
                    f = model.features(xb.to(device).contiguous(
                        memory_format=torch.channels_last)).float()
                if head is None:
                    head = new_head(f.shape[1], k, cfg.seed, device)
                    fitter = HeadFitter(head, cfg.lr)
                total += float(fitter.step(*HeadFitter.prepare(f, yb.to(device), k)))
            curve.append(total / len(train_ds))
            bar.advance()
    fitter.finish()
    train = extract_features(model, train_ds, 0, cfg.eval_batch_size)
    model.train(model_was_training)
    return _result(head, train, val, test, k, t0, curve)
