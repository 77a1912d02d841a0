"""Registry-wide model contract (timm style): every registered model, CPU, tiny batches (the
checks themselves are in tests/helpers/model_contract.py)."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import model_contract as mc
from transforms2d.errors import ConfigError
from transforms2d.models import (
    ALIASES,
    T2DModel,
    create_model,
    list_models,
    model_info,
    resolve_name,
)

MODELS = list_models()
PAPER = ["densenet_cifar", "resnet18", "resnet50", "vgg11", "vit"]
SMALL = ["convnet_s", "convnet_xs", "densenet_s", "resnet_s", "vgg_s", "vit_s"]
# The paper's parameter counts at 10 classes (docs/protocol.md §3; resnet50 as in the CIFAR code).
PAPER_PARAMS = {"resnet18": 11.17e6, "resnet50": 23.52e6, "vgg11": 9.23e6, "vit": 12.47e6,
                "densenet_cifar": 1.0e6}
_CACHE: dict[str, T2DModel] = {}
# Tiny batches gain nothing from threads, and 2 OpenMP threads on a busy 2-core machine
# (another job, or pytest-xdist workers) spin-wait: measured 100x slower.
pytestmark = pytest.mark.usefixtures("one_thread")


def _model(name: str) -> T2DModel:
    """One seeded instance per model for the read-only checks (the big ones are built once)."""
    if name not in _CACHE:
        torch.manual_seed(0)
        _CACHE[name] = create_model(name, num_classes=10).eval()
    return _CACHE[name]


_x = mc.model_input


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_registry_lists_paper_and_small_models():
    assert sorted(PAPER + SMALL) == MODELS
    assert list_models(paper=True) == PAPER
    assert list_models("vit*") == ["vit", "vit_s"]
    assert list_models("nope*") == []
    for name in MODELS:
        mc.check_info(name, paper=name in PAPER)


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(ConfigError, match="Unknown model 'resnet81'; did you mean") as e:
        create_model("resnet81")
    for name in MODELS + list(ALIASES):
        assert name in str(e.value)


def test_alias_densenet121_is_the_cifar_densenet():
    assert resolve_name("densenet121") == "densenet_cifar"
    assert model_info("densenet121").name == "densenet_cifar"
    torch.manual_seed(0)
    a = create_model("densenet121")
    assert n_params(a) == n_params(_model("densenet_cifar"))


def test_none_kwargs_are_dropped_and_unknown_kwargs_raise():
    assert create_model("vit_s", image_size=None, in_chans=None).image_size == 32
    with pytest.raises(ConfigError, match="does not take the argument 'width_mult'"):
        create_model("resnet_s", width_mult=2)
    with pytest.raises(ConfigError, match=r"'num_classes' parameter must be an int in \[1, inf\)"):
        create_model("convnet_xs", num_classes=0)


@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_features_and_head(name):
    mc.check_forward_shape_features_and_head(_model(name))


@pytest.mark.parametrize("name", MODELS)
def test_every_parameter_gets_a_gradient(name):
    mc.check_every_parameter_gets_a_gradient(name)


@pytest.mark.parametrize("name", MODELS)
def test_reset_head(name):
    mc.check_reset_head(name)


@pytest.mark.parametrize("name", SMALL)
def test_init_is_deterministic_given_the_seed(name):
    mc.check_init_is_deterministic_given_the_seed(name)


@pytest.mark.parametrize("name", PAPER)
def test_paper_parameter_counts(name):
    count = n_params(_model(name))
    print(f"{name}: {count:,} parameters")
    assert count == pytest.approx(PAPER_PARAMS[name], rel=0.01), f"{name}: {count:,}"


def test_paper_feature_widths():
    widths = {n: _model(n).num_features for n in PAPER}
    assert widths == {"resnet18": 512, "resnet50": 2048, "vgg11": 512, "vit": 384,
                      "densenet_cifar": 384}


def test_vit_tokens_follow_image_size():
    assert _model("vit").pos_embed.shape == (1, 65, 384)  # 64 patches of 4x4 + CLS
    model = create_model("vit_s", image_size=16, num_classes=3).eval()
    assert model.pos_embed.shape[1] == (16 // model.patch_size) ** 2 + 1
    assert model(_x(size=16)).shape == (2, 3)
    with pytest.raises(ConfigError, match="built for 16-px inputs"):
        model(_x(size=32))
    with pytest.raises(ConfigError, match="divisible by the patch size"):
        create_model("vit", image_size=30)


def test_cnns_accept_other_image_sizes():
    for name in ("convnet_xs", "resnet_s", "densenet_s"):
        model = _model(name)
        with torch.no_grad():
            assert model(_x(size=48)).shape == (2, 10)


@pytest.mark.parametrize("name", ["resnet_s", "vit_s"])
def test_channels_last_and_bf16_autocast(name):
    model, x = _model(name), _x(4)
    with torch.no_grad():
        ref = model(x)
        cl = model.to(memory_format=torch.channels_last)(
            x.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(cl, ref, rtol=1e-4, atol=1e-4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(x.contiguous(memory_format=torch.channels_last))
    model.to(memory_format=torch.contiguous_format)
    assert low.shape == (4, 10) and torch.isfinite(low).all()
    assert (low.float() - ref).abs().max() < 0.1 * ref.abs().max() + 0.1
    train = create_model(name).train().to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = train(x.contiguous(memory_format=torch.channels_last)).float().logsumexp(1).sum()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in train.parameters())
