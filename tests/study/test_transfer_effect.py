"""The paper's claim C1 at smoke size: matching invariance transfers better.

Pretrain two small CNNs on 10 "other" objects — one with the target's transforms (same), one
with other transforms (disjoint) — then linear-probe both on 10 new target objects rendered
with the target transforms. Seeds and sizes are fixed; the margin is asserted per seed.
"""

from __future__ import annotations

import pytest
import torch

from transforms2d import Transforms2D
from transforms2d.models import create_model
from transforms2d.train import EvalSet, ProbeConfig, TrainConfig, linear_probe, train

TARGET, DISJOINT = ["hue", "invert"], ["rotate", "blur"]


def run_seed(seed: int) -> dict[str, tuple[float, float]]:
    """{family: (pretraining test accuracy, probe test accuracy on the target task)}."""
    target = Transforms2D(objects=list(range(10)), transforms=TARGET, n=500, seed=100 + seed,
                          image_size=16)
    target_test = target.with_split("test", 500)
    out = {}
    for family, transforms in (("same", TARGET), ("disjoint", DISJOINT)):
        source = Transforms2D(objects=list(range(10, 20)), transforms=transforms, n=1500,
                              seed=seed, image_size=16)
        torch.manual_seed(seed)
        net = create_model("convnet_xs", num_classes=10)
        res = train(net, source, TrainConfig(epochs=4, batch_size=128, progress=False),
                    test=EvalSet.render(source.with_split("test", 500)))
        probe = linear_probe(net, target, None, target_test,
                             ProbeConfig(solver="adam", epochs=100, batch_size=128, progress=False))
        out[family] = (res.final["test_acc"], probe.test_acc)
    return out


@pytest.mark.slow
def test_same_transforms_transfer_better_than_disjoint_ones():
    gaps = []
    for seed in range(3):
        accs = run_seed(seed)
        for family, (pretrain_acc, _) in accs.items():
            assert pretrain_acc > 0.4, (seed, family, accs)  # chance is 0.1
        gaps.append(accs["same"][1] - accs["disjoint"][1])
    assert min(gaps) > 0.05, gaps
    assert sum(gaps) / len(gaps) > 0.1, gaps
