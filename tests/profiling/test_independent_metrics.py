"""The profiler's invariance numbers against an independent implementation written from the
definitions (docs/profiling.md, "Definitions"): numpy in float64, pooled means over every pair,
and linear CKA by Kornblith et al.'s centring-matrix formula (the package uses the
feature-space form). Data and partners are the profile's own (the same images, the same
derangement per batch), so only the metric arithmetic is compared."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import transforms2d as t2d
from transforms2d.metrics.functional import derangement
from transforms2d.models import create_model
from transforms2d.profiling.domains import build_pair
from transforms2d.profiling.measure import batches
from transforms2d.rng import derive_key

pytestmark = pytest.mark.usefixtures("one_thread")

PAIRS, BATCH, SEED, SIZE = 150, 64, 3, 32  # batches of 64, 64 and 22 pairs


def l2_ratio(z1: np.ndarray, z2: np.ndarray, partner: np.ndarray) -> float:
    """mean_i ||z1_i - z2_i|| / mean_i ||z1_i - z1_partner(i)||."""
    return float(np.linalg.norm(z1 - z2, axis=1).mean()
                 / np.linalg.norm(z1 - z1[partner], axis=1).mean())


def cos_ratio(z1: np.ndarray, z2: np.ndarray, partner: np.ndarray) -> float:
    """mean_i cos(z1_i, z2_i) / mean_i cos(z1_i, z1_partner(i))."""
    def cos(a, b):
        return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos(z1, z2).mean() / cos(z1, z1[partner]).mean())


def cka(x: np.ndarray, y: np.ndarray) -> float:
    """HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), HSIC(K, L) = tr(K H L H), H = I - 11^T / n,
    K = X X^T, L = Y Y^T (the 1 / (n-1)^2 factors cancel)."""
    n = len(x)
    h = np.eye(n) - np.full((n, n), 1.0 / n)
    k, lm = x @ x.T, y @ y.T

    def hsic(a, b):
        return np.trace(a @ h @ b @ h)
    return float(hsic(k, lm) / np.sqrt(hsic(k, k) * hsic(lm, lm)))


def test_profile_agrees_with_the_definitions_to_1e_6():
    torch.manual_seed(0)
    model = create_model("convnet_xs", num_classes=10).eval()
    res = t2d.profile({"net": model}, transforms="rotate", domains="objects", pairs=PAIRS,
                      metrics="l2,cos,cka", reference=False, seed=SEED, batch_size=BATCH,
                      resamples=10, image_size=SIZE)
    got = {r["metric"]: r["value"] for r in res.rows}

    ds, twin = build_pair("objects", None, [("rotate", {})], PAIRS, SEED, SIZE, "cpu")
    z1, z2, partner = [], [], []
    for b, idx in enumerate(batches(PAIRS, BATCH)):
        perm = derangement(len(idx), torch.Generator().manual_seed(
            derive_key(SEED, "invariance", b)))
        partner.append(perm.numpy() + int(idx[0]))  # the partner's index among all pairs
        with torch.no_grad():
            for out, d in ((z1, ds), (z2, twin)):
                x, _ = d.render(idx)  # in [-1, 1]; the model's mean/std: 0.5, 0.5
                out.append(model.features((x * 0.5 + 0.5 - 0.5) / 0.5).double().numpy())
    z1, z2, partner = np.concatenate(z1), np.concatenate(z2), np.concatenate(partner)
    assert len(z1) == PAIRS and (partner != np.arange(PAIRS)).all()

    want = {"l2": l2_ratio(z1, z2, partner), "cos": cos_ratio(z1, z2, partner),
            "cka": cka(z1, z2)}
    assert set(got) == set(want)
    for metric, value in want.items():
        assert got[metric] == pytest.approx(value, abs=1e-6, rel=0), metric
    # not a vacuous agreement: rotation moves these features, partly
    assert 0.05 < want["l2"] < 1.0 and 0.0 < want["cka"] < 1.0
