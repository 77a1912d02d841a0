"""L2-regularised multinomial logistic regression on cached features, solved to optimality.

The linear probe's head is the minimiser of

    L(W, b) = mean_i CE(softmax(W z_i + b), y_i) + (l2 / 2) ||W||²

over standardised features ``z = (f - mean) / std`` (train statistics; the bias is not
penalised). With ``l2 > 0`` the objective is strongly convex, so it has exactly one minimiser
and "converged" has a meaning that a loss slope does not: the gradient is (numerically) zero.
Without the penalty, cross-entropy on separable features has no minimiser at all: the loss
keeps falling as the weights grow while the decisions stay (docs/protocol.md §7).

The solver is full-batch L-BFGS with a strong-Wolfe line search in float64 (the gradient can
then be driven to 1e-6 and below), stopped when the largest gradient entry is at most ``tol``.
The fitted weights are mapped back to the raw features, so the head is an ordinary
``nn.Linear`` on the backbone's features (full fine-tuning starts from it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class SolverInfo:
    """How the solve ended: ``converged`` (largest |gradient| <= ``tol``), that gradient
    (``grad_max``), the final objective, L-BFGS iterations and function evaluations."""

    converged: bool
    grad_max: float
    objective: float
    iterations: int
    evaluations: int
    tol: float

    def to_dict(self) -> dict:
        return {"converged": self.converged, "grad_max": self.grad_max,
                "objective": self.objective, "iterations": self.iterations,
                "evaluations": self.evaluations, "tol": self.tol}


def standardise(f: torch.Tensor, eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature ``(mean (D,), std (D,))`` of ``f (N, D)``; a constant feature gets std 1
    (it carries nothing, and dividing by ~0 would blow it up)."""
    mean = f.mean(0)
    std = f.std(0, unbiased=False)
    return mean, torch.where(std > eps * std.max().clamp_min(1e-30), std, torch.ones_like(std))


def objective(p: torch.Tensor, z: torch.Tensor, onehot: torch.Tensor, l2: float
              ) -> torch.Tensor:
    """``L`` of the module docstring for ``p = [W | b]`` ``(C, D + 1)``, ``z (N, D)``,
    ``onehot (N, C)``."""
    logits = z @ p[:, :-1].t() + p[:, -1]
    ce = -(F.log_softmax(logits, dim=1) * onehot).sum(1).mean()
    return ce + 0.5 * l2 * p[:, :-1].pow(2).sum()


def fit_logistic(f: torch.Tensor, y: torch.Tensor, num_classes: int, l2: float = 1e-4,
                 tol: float = 1e-6, max_iter: int = 2000
                 ) -> tuple[torch.Tensor, torch.Tensor, SolverInfo]:
    """The L2-regularised softmax regression of ``y (N,)`` on ``f (N, D)``.

    Returns ``(weight (C, D), bias (C,), info)`` in ``f``'s dtype and device, to be applied to
    raw features as ``f @ weight.T + bias``. Deterministic: no random initialisation (zeros)
    and a fixed sequence of full-batch steps.

    >>> f = torch.tensor([[0.0], [1.0], [2.0], [3.0]]); y = torch.tensor([0, 0, 1, 1])
    >>> w, b, info = fit_logistic(f, y, 2, l2=1e-2)
    >>> info.converged, (f @ w.t() + b).argmax(1).tolist()
    (True, [0, 0, 1, 1])
    """
    z64, mean, std = _prepare(f)
    onehot = F.one_hot(y.to(f.device), num_classes).to(torch.float64)
    p = torch.zeros(num_classes, f.shape[1] + 1, dtype=torch.float64, device=f.device,
                    requires_grad=True)
    opt = torch.optim.LBFGS([p], lr=1.0, max_iter=max_iter, max_eval=2 * max_iter,
                            tolerance_grad=tol, tolerance_change=0.0, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = objective(p, z64, onehot, l2)
        loss.backward()
        return loss

    opt.step(closure)
    loss = closure().detach()  # the gradient at the final point, whatever stopped L-BFGS
    grad_max = float(p.grad.abs().max())
    state = opt.state[p]
    info = SolverInfo(grad_max <= tol, grad_max, float(loss), int(state.get("n_iter", 0)),
                      int(state.get("func_evals", 0)), tol)
    with torch.no_grad():
        weight = p[:, :-1] / std  # back to raw features: W z + b = (W / std) f + b'
        bias = p[:, -1] - weight @ mean
    return weight.to(f.dtype), bias.to(f.dtype), info


def _prepare(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    f64 = f.to(torch.float64)
    mean, std = standardise(f64)
    return (f64 - mean) / std, mean, std
