"""Metrics on closed-form cases (docs/protocol.md §5): pure functions first, then a real
Transforms2D pair."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from transforms2d import ConfigError
from transforms2d.metrics import (
    METRICS,
    RatioAccumulator,
    cos_ratio,
    derangement,
    dot_ratio,
    embed,
    invariance,
    invariance_many,
    invariance_ratio,
    l2_ratio,
    linear_cka,
    macro_accuracy,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- permutation -------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 10, 513])
def test_derangement_is_a_permutation_without_fixed_points(n):
    for s in range(5):
        p = derangement(n, gen(s))
        assert sorted(p.tolist()) == list(range(n))
        assert not (p == torch.arange(n)).any()


def test_derangement_seeded():
    assert torch.equal(derangement(100, gen(3)), derangement(100, gen(3)))
    assert not torch.equal(derangement(100, gen(3)), derangement(100, gen(4)))
    assert derangement(1, gen(0)).tolist() == [0]


# -- ratios ------------------------------------------------------------------------------------
def test_identical_pairs_are_perfectly_invariant():
    z = torch.randn(256, 16, generator=gen(0)).relu()  # post-ReLU: random pairs similar > 0
    p = derangement(256, gen(1))
    assert l2_ratio(z, z, p) == 0.0
    assert cos_ratio(z, z, p) >= 1.0
    assert dot_ratio(z, z, p) >= 1.0


def test_independent_pairs_give_ratio_one():
    n = 4000
    z1, z2 = torch.randn(n, 32, generator=gen(0)), torch.randn(n, 32, generator=gen(1))
    assert abs(l2_ratio(z1, z2, derangement(n, gen(2))) - 1) < 0.05


def test_ratio_matches_formula():
    z1, z2 = torch.randn(50, 8, generator=gen(0)), torch.randn(50, 8, generator=gen(1))
    p = derangement(50, gen(2))
    want = (z1 - z2).norm(dim=1).mean() / (z1 - z1[p]).norm(dim=1).mean()
    assert l2_ratio(z1, z2, p) == pytest.approx(float(want), rel=1e-6)
    want = (z1 * z2).sum(1).mean() / (z1 * z1[p]).sum(1).mean()
    assert dot_ratio(z1, z2, p) == pytest.approx(float(want), rel=1e-5)


def test_small_transformation_scales_l2_ratio():
    # z2 = z1 + eps * noise: the ratio grows linearly in eps.
    z1, noise = torch.randn(2000, 16, generator=gen(0)), torch.randn(2000, 16, generator=gen(1))
    p = derangement(2000, gen(2))
    r1, r2 = l2_ratio(z1, z1 + 0.01 * noise, p), l2_ratio(z1, z1 + 0.02 * noise, p)
    assert 0 < r1 < 0.02 and r2 == pytest.approx(2 * r1, rel=1e-4)


def test_accumulator_matches_one_batch_and_skips_singletons():
    z1, z2 = torch.randn(40, 6, generator=gen(0)), torch.randn(40, 6, generator=gen(1))
    p = derangement(40, gen(2))
    acc = RatioAccumulator(("l2", "dot"))
    acc.update(z1, z2, p)
    out = acc.compute()
    assert out["l2"] == pytest.approx(invariance_ratio(z1, z2, p, "l2"))
    assert out["dot"] == pytest.approx(invariance_ratio(z1, z2, p, "dot"))
    acc.update(z1[:1], z1[:1], torch.zeros(1, dtype=torch.long))  # no partner: numerator only
    assert acc.compute()["l2"] == pytest.approx(out["l2"] * 40 / 41)


def test_constant_representation_is_nan():
    z = torch.ones(10, 3)
    assert math.isnan(l2_ratio(z, z, derangement(10, gen(0))))


# -- CKA ---------------------------------------------------------------------------------------
def test_cka_closed_forms():
    x = torch.randn(300, 20, generator=gen(0))
    q, _ = torch.linalg.qr(torch.randn(20, 20, generator=gen(1)))
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, x @ q) == pytest.approx(1.0, abs=1e-10)
    assert linear_cka(x, 7.5 * x + 3.0) == pytest.approx(1.0, abs=1e-10)  # scale, offset
    y = torch.randn(300, 20, generator=gen(2))
    assert linear_cka(x, y) < 0.15
    assert linear_cka(x, y) == pytest.approx(linear_cka(y, x), rel=1e-12)


def test_cka_sample_form_equals_feature_form():
    # D > N takes the N×N route; compare with the explicit feature-space formula.
    x, y = torch.randn(30, 50, generator=gen(0)), torch.randn(30, 40, generator=gen(1))
    y = y + x[:, :40]
    xd, yd = x.double(), y.double()
    xc, yc = xd - xd.mean(0), yd - yd.mean(0)
    want = (yc.T @ xc).norm() ** 2 / ((xc.T @ xc).norm() * (yc.T @ yc).norm())
    assert linear_cka(x, y) == pytest.approx(float(want), rel=1e-10)
    # and the feature-space route (D ≤ N) on the transposed problem's shapes agrees too
    assert linear_cka(x[:, :20], y[:, :20]) == pytest.approx(float(
        (yc[:, :20].T @ xc[:, :20]).norm() ** 2
        / ((xc[:, :20].T @ xc[:, :20]).norm() * (yc[:, :20].T @ yc[:, :20]).norm())), rel=1e-10)


# -- accuracy ----------------------------------------------------------------------------------
def test_macro_vs_micro_accuracy_on_imbalanced_data():
    target = torch.tensor([0] * 9 + [1])
    pred = torch.zeros(10, dtype=torch.long)  # always class 0: micro 0.9, macro (1 + 0) / 2
    assert macro_accuracy(pred, target, 2) == pytest.approx(0.5)
    assert float((pred == target).float().mean()) == pytest.approx(0.9)
    logits = nn.functional.one_hot(pred, 3).float()  # class 2 absent from target: ignored
    assert macro_accuracy(logits, target, 3) == pytest.approx(0.5)
    assert macro_accuracy(target, target) == 1.0


def test_macro_accuracy_rejects_bad_shapes():
    with pytest.raises(ConfigError):
        macro_accuracy(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long), 2)


# -- models on a real dataset ------------------------------------------------------------------
class Pool(nn.Module):
    """Global average pool of the input: invariant to rotation about the centre (up to edges)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def features(self, x):
        return self.w * x.mean((2, 3))

    def forward(self, x):
        return self.features(x)


class Flat(nn.Module):
    """The image itself: sees every pixel move."""

    def features(self, x):
        return x.flatten(1)

    def forward(self, x):
        return self.features(x).sum(1)  # forward differs: the metrics must read features()


class NoFeatures(nn.Module):
    def forward(self, x):
        return x[:, :, ::4, ::4]  # (B, 3, 4, 4): flattened by the metrics


@pytest.fixture(scope="module")
def pair(tiny_dataset):
    """The tiny task's rotated test split and its twin with other rotations."""
    return tiny_dataset, tiny_dataset.with_transform_seed(1)


def test_pooling_is_more_rotation_invariant_than_flatten(pair):
    pool, flat = invariance(Pool(), *pair), invariance(Flat(), *pair)
    assert set(pool) == {"l2", "cos", "dot", "cka"}
    assert 0 < pool["l2"] < 0.5 * flat["l2"]
    assert flat["l2"] > 0.1
    assert 0 < pool["cka"] <= 1 + 1e-9


def test_invariance_many_equals_invariance(pair):
    models = {"pool": Pool(), "flat": Flat(), "raw": NoFeatures()}
    many = invariance_many(models, *pair, seed=3, batch_size=24)
    for name, m in models.items():
        assert many[name] == invariance(m, *pair, seed=3, batch_size=24)


def test_seed_determinism(pair):
    a = invariance(Flat(), *pair, metrics=("l2",), seed=0, batch_size=16)
    assert a == invariance(Flat(), *pair, metrics=("l2",), seed=0, batch_size=16)
    b = invariance(Flat(), *pair, metrics=("l2",), seed=1, batch_size=16)
    assert a != b and a["l2"] == pytest.approx(b["l2"], rel=0.2)


def test_no_transforms_gives_zero_l2(tiny_data):
    ds = tiny_data(n=64, transforms=[], split="test")
    for model in (Pool(), Flat(), NoFeatures()):
        out = invariance(model, ds, ds.with_transform_seed(1), batch_size=20)
        assert out["l2"] == 0.0
        assert out["cka"] == pytest.approx(1.0, abs=1e-9)


def test_training_mode_restored_and_no_grad(pair):
    model = Pool().train()
    invariance(model, *pair, metrics=("l2",))
    assert model.training and model.w.grad is None
    model.eval()
    invariance(model, *pair, metrics=("l2",))
    assert not model.training


def test_embed(pair):
    ds, _ = pair
    z, y = embed(NoFeatures(), ds, batch_size=10)
    assert z.shape == (64, 48) and y.shape == (64,)
    assert torch.equal(y, ds.render(torch.arange(64))[1])
    assert not z.requires_grad


def test_validation(pair, tiny_data):
    ds, twin = pair
    with pytest.raises(ConfigError, match="Valid: l2, cos, dot, cka"):
        invariance(Pool(), ds, twin, metrics=("l2", "l1"))
    short = ds.with_split("test", n=32)
    with pytest.raises(ConfigError, match="with_transform_seed"):
        invariance(Pool(), ds, short)
    other = tiny_data(objects=2, n=64, split="test")  # labels i % 2
    with pytest.raises(ConfigError, match="labels"):
        invariance(Pool(), ds, other)
    with pytest.raises(ConfigError, match="batch_size"):
        invariance(Pool(), ds, twin, batch_size=0)
    assert list(METRICS) == ["l2", "cos", "dot", "cka"]
