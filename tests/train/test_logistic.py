"""The L-BFGS probe solver (``transforms2d.train.logistic``): it reaches the optimum of its
strongly convex objective (checked against the optimality condition and against an independent
solve), maps the weights back to raw features, and the linear probe uses it by default."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from transforms2d.train import ProbeConfig, TrainConfig, linear_probe, train
from transforms2d.train.logistic import fit_logistic, objective, standardise


def _blobs(n=300, d=5, k=3, seed=0, spread=1.5):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * spread
    y = torch.arange(n) % k
    return centres[y] + torch.randn(n, d, generator=g) * 3 + 10, y  # offset: raw != standard


def test_the_solution_has_zero_gradient_and_beats_perturbations():
    f, y = _blobs()
    w, b, info = fit_logistic(f, y, 3, l2=1e-2, tol=1e-8)
    assert info.converged and info.grad_max <= 1e-8
    mean, std = standardise(f.double())
    z = (f.double() - mean) / std
    onehot = F.one_hot(y, 3).double()
    # back to the standardised parameters the objective is defined on
    p = torch.cat([w.double() * std, (b.double() + w.double() @ mean)[:, None]], 1)
    best = objective(p, z, onehot, 1e-2).item()
    assert best == pytest.approx(info.objective, abs=1e-6)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):  # strictly convex: any nearby point is worse
        q = p + 1e-3 * torch.randn(p.shape, generator=g, dtype=torch.float64)
        assert objective(q, z, onehot, 1e-2).item() > best


def test_it_agrees_with_plain_gradient_descent_on_the_same_objective():
    f, y = _blobs(n=120, d=3, k=2, seed=2)
    w, b, info = fit_logistic(f, y, 2, l2=1e-1, tol=1e-9)
    mean, std = standardise(f.double())
    z, onehot = (f.double() - mean) / std, F.one_hot(y, 2).double()
    p = torch.zeros(2, 4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5)
    for _ in range(4000):
        opt.zero_grad()
        objective(p, z, onehot, 1e-1).backward()
        opt.step()
    raw = (f @ w.t() + b).double()
    gd = z @ p[:, :-1].detach().t() + p[:, -1].detach()
    torch.testing.assert_close(F.softmax(raw, 1), F.softmax(gd, 1), atol=1e-5, rtol=0)


def test_a_stopped_solve_says_it_did_not_converge():
    f, y = _blobs()
    *_, info = fit_logistic(f, y, 3, l2=1e-6, tol=1e-12, max_iter=3)
    assert not info.converged and info.iterations <= 3 and info.grad_max > 1e-12


def test_a_constant_feature_is_harmless():
    f, y = _blobs(n=90, d=4)
    f[:, 2] = 7.0
    w, b, info = fit_logistic(f, y, 3)
    assert info.converged and torch.isfinite(w).all() and torch.isfinite(b).all()


@pytest.fixture(scope="module")
def net(tiny_data, tiny_model):
    from tests.helpers import torch_threads

    with torch_threads(1):
        model = tiny_model(num_classes=4, seed=0)
        train(model, tiny_data(transforms=["rotate"], n=256, seed=3),
              TrainConfig(epochs=2, batch_size=64, progress=False))
    return model.eval()


def test_the_linear_probe_solves_with_lbfgs_by_default(net, tiny_data, one_thread):
    assert ProbeConfig().solver == "lbfgs"
    tr = tiny_data(transforms=["rotate"], n=128, seed=9)
    te = tiny_data(transforms=["rotate"], n=64, split="test", seed=9)
    res = linear_probe(net, tr, None, te, ProbeConfig(views=2, progress=False))
    assert res.solver["converged"] and res.solver["grad_max"] <= ProbeConfig().tol
    assert res.loss_curve == [] and 0.25 < res.train_acc <= 1.0 and res.test_acc is not None
    again = linear_probe(net, tr, None, te, ProbeConfig(views=2, progress=False))
    assert torch.equal(again.head.weight, res.head.weight)  # deterministic
    assert "solver" in res.to_dict()
