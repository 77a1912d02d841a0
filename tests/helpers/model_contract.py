"""The model contract (timm style) as plain functions of a registered model name, so that the
registry's models (tests/models/test_models.py) and a model registered at run time
(tests/test_registration.py) are checked alike. CPU, tiny batches, 10 classes."""

from __future__ import annotations

import torch

from transforms2d.models import T2DModel, create_model, model_info

FAMILIES = {"convnet", "densenet", "resnet", "vgg", "vit"}


def model_input(n: int = 2, size: int = 32) -> torch.Tensor:
    """A fixed ``(n, 3, size, size)`` standard-normal batch."""
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(1))


def check_info(name: str, paper: bool, families=FAMILIES) -> None:
    """The registry entry: its name, a one-line description, the paper flag and the family."""
    info = model_info(name)
    assert info.name == name and info.description and "\n" not in info.description
    assert info.paper == paper
    assert info.family in families


def check_forward_shape_features_and_head(model: T2DModel, num_classes: int = 10) -> None:
    """``features`` is ``(B, num_features)``, ``forward`` is ``head(features)``, finite."""
    x = model_input()
    assert isinstance(model, T2DModel) and model.num_classes == num_classes
    with torch.no_grad():
        z, out = model.features(x), model(x)
    assert z.shape == (2, model.num_features)
    assert out.shape == (2, num_classes) and not out.isnan().any()
    assert model.head.in_features == model.num_features
    torch.testing.assert_close(model.head(z), out)


def check_every_parameter_gets_a_gradient(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=10).train()
    model(model_input()).logsumexp(1).sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: parameter '{pname}' got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: parameter '{pname}' has a non-finite grad"


def check_reset_head(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=10)
    old = model.head
    new = model.reset_head(7)
    assert model.head is new and new is not old and model.num_classes == 7
    assert (new.in_features, new.out_features) == (model.num_features, 7)
    with torch.no_grad():
        assert model.eval()(model_input()).shape == (2, 7)


def check_init_is_deterministic_given_the_seed(name: str) -> None:
    torch.manual_seed(3)
    a = create_model(name).state_dict()
    torch.manual_seed(3)
    b = create_model(name).state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def run_contract(name: str, paper: bool = False, families=FAMILIES) -> None:
    """Every check above on the registered model ``name``."""
    check_info(name, paper, families)
    torch.manual_seed(0)
    check_forward_shape_features_and_head(create_model(name, num_classes=10).eval())
    check_every_parameter_gets_a_gradient(name)
    check_reset_head(name)
    check_init_is_deterministic_given_the_seed(name)
