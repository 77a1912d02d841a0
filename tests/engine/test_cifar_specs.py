"""CIFAR run specs (``"dataset": "cifar"``): invalid ones are one-line errors, and a valid one
builds a :class:`TransformedCIFAR` whose invariance twin redraws the transforms (on the small
archives of the ``cifar_archives`` fixture)."""

from __future__ import annotations

import pytest
import torch

from transforms2d.data import TransformedCIFAR
from transforms2d.engine.run import build_dataset, measure
from transforms2d.engine.spec import InvarianceTarget, RunSpec
from transforms2d.errors import ConfigError

pytestmark = pytest.mark.usefixtures("empty_cifar")  # a CIFAR in the user's cache is not used


@pytest.mark.parametrize("bad,where", [
    (dict(root="/data"), "T2D_CIFAR_ROOT"), (dict(download=True), "not part of a spec"),
    (dict(name="cifar5"), "cifar10"), (dict(n=10, fraction=0.5), "at most one"),
    (dict(classes=[1, 1]), "distinct"), (dict(classes=[10]), "0..9"),
    (dict(normalize="imagenet"), "half"), (dict(image_size=16), "Unknown key"),
])
def test_cifar_spec_errors(bad, where):
    with pytest.raises(ConfigError, match=where):
        RunSpec(model="convnet_xs", source=dict(dataset="cifar", **bad))


def test_unknown_dataset_and_cifar_twins():
    with pytest.raises(ConfigError, match="dataset"):
        RunSpec(model="convnet_xs", source=dict(dataset="imagenet"))
    with pytest.raises(ConfigError, match="transform"):
        InvarianceTarget("x", dict(dataset="cifar"), twin_factor="object")


def test_build_dataset_and_invariance_twin(with_cifar, tiny_model):
    data = dict(RunSpec(model="convnet_xs", source=dict(
        dataset="cifar", name="cifar100", classes=[5, 7, 9], transforms=["rotate"],
        n_per_class=2, normalize="half")).source)
    ds = build_dataset(data, "test")
    assert isinstance(ds, TransformedCIFAR) and ds.spec.split == "test" and len(ds) == 6
    assert ds.root == str(with_cifar.resolve()) and ds.num_classes == 3
    twin = ds.twin("transform", 1)
    x, y = ds.render(torch.arange(6))
    x2, y2 = twin.render(torch.arange(6))
    assert torch.equal(y, y2) and not torch.equal(x, x2)
    target = InvarianceTarget("c", data, metrics=("l2",))
    out = measure(tiny_model(num_classes=3, seed=0).eval(), target, seed=0)
    assert out["l2"] > 0
