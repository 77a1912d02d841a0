"""Extending the package at run time: a transform, a model and an experiment registered by the
public decorators show up in the command line, work end to end and pass the same contracts as
the built-in ones; the paper's experiments do not change; each is unregistered afterwards."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import model_contract as mc
from tests.helpers import transform_contract as tc
from tests.helpers.engine import results, spec_digest, tiny_spec
from transforms2d import ConfigError, Transforms2D
from transforms2d.cli import app
from transforms2d.engine import (
    EXPERIMENTS,
    get_experiment,
    register_experiment,
    spec_hash,
    unregister_experiment,
)
from transforms2d.models import (
    create_model,
    list_models,
    model_info,
    register_model,
    unregister_model,
)
from transforms2d.models.convnet import ConvNet
from transforms2d.transforms import (
    PAPER_TRANSFORMS,
    REGISTRY,
    get_transform,
    register,
    sample_nothing,
    transform_names,
    unregister,
)

# sha256 of the comma-joined spec hashes of EXPERIMENTS[name].specs(profile, 2) without CIFAR,
# computed before any transform was registered at run time (spec format 2; their first 16 hex
# digits are the digests pinned in tests/study/test_cifar.py; re-pinned with them 2026-12-05
# and 2026-12-07).
PAPER_GRIDS = {
    ("e1", "smoke"): "2e6f9acaa1ee9641b44b3faa8f2490df8f93c873fa1798041d9fd3ed547b9c9c",
    ("e1", "quick"): "59d391e17247ad558e8992ac200b69ef24078f99292e7d9ab72981a7ca937801",
    ("e2", "smoke"): "b7b1a93abec99e62324d40218ebefa9243556416ee37e5e037c499b4713c12e1",
    ("e2", "quick"): "11bfbb8cf543a8389c8889f158e0b8fd6872bd059ab13d087bf88714a3c1372f",
    ("e3", "smoke"): "0b761b154be0fe9122a3fe1aa2a81d951001b651677739bc1281697f0125e150",
    ("e3", "quick"): "bfd2382c4d34b74dbd3aef955f62fa996ed662e3a98a1efdb5c9cf89d79b8580",
    ("e4", "smoke"): "b5e1400dd78c510367dfa706def4b73b73fa894c5050195762473096f473cde2",
    ("e4", "quick"): "c6b14673b9666abbaba2736e27037f9a8ac08fa7e96bc7ffa858caa25ef8a646",
}


def grid_digests() -> dict[tuple[str, str], str]:
    return {(n, p): spec_digest(EXPERIMENTS[n].specs(p, 2)) for n, p in PAPER_GRIDS}


# -- a transform ------------------------------------------------------------------------------
SWAP = "rb_swap"
# A channel swap has no parameter (no identity but not applying it) and is a permutation of
# its input (differentiable, in float64 too).
SWAP_CONTRACT = tc.Contract(no_identity="a channel swap has no parameter")


@pytest.fixture
def swap_transform():
    """``rb_swap`` (red <-> blue, p=0.5) registered in group photometric, then unregistered."""
    assert SWAP not in REGISTRY

    @register(SWAP, "photometric", sample_nothing, "swap red and blue, p=0.5", p=0.5)
    def apply_rb_swap(x: torch.Tensor) -> torch.Tensor:
        return x[:, [2, 1, 0, 3]]

    try:
        yield get_transform(SWAP)
    finally:
        unregister(SWAP)
    assert SWAP not in REGISTRY and SWAP not in transform_names()


def test_a_registered_transform_is_listed_renders_and_passes_the_contract(swap_transform,
                                                                          runner):
    assert transform_names("photometric")[-1] == SWAP and SWAP not in PAPER_TRANSFORMS
    res = runner.invoke(app, ["transforms"])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if f" {SWAP} " in line)
    assert "photometric" in row and "swap red and blue" in row
    assert res.output.count("(not in the") == 1  # it, and none of the paper's 18

    kw = dict(objects=4, n=40, split="test", seed=8)
    plain = Transforms2D(**kw)
    ds = Transforms2D(transforms=[(SWAP, {"p": 1.0})], **kw)
    a, b = plain.render(torch.arange(40))[0], ds.render(torch.arange(40))[0]
    obj = plain.renderer.identity(torch.arange(40))["object"]
    alpha = plain.renderer.canvases[obj][:, 3]
    inside, outside = alpha == 255, alpha == 0  # (B, H, W)
    assert inside.any() and outside.any()
    for c_new, c_old in ((0, 2), (1, 1), (2, 0)):  # opaque object pixels: channels swapped
        torch.testing.assert_close(b[:, c_new][inside], a[:, c_old][inside], atol=1e-6, rtol=0)
    assert torch.equal(b.permute(1, 0, 2, 3)[:, outside], a.permute(1, 0, 2, 3)[:, outside])
    assert not torch.equal(a, b)

    tc.run_battery(swap_transform, SWAP_CONTRACT)
    with pytest.raises(ValueError, match="already registered"):
        register(SWAP, "photometric", sample_nothing, "again")


def test_registering_a_transform_changes_no_paper_experiment(empty_cifar, runner):
    assert grid_digests() == PAPER_GRIDS
    register(SWAP, "photometric", sample_nothing, "swap red and blue")(lambda x: x[:, [2, 1, 0, 3]])
    try:
        assert SWAP in transform_names()
        assert grid_digests() == PAPER_GRIDS
    finally:
        unregister(SWAP)
    assert grid_digests() == PAPER_GRIDS
    with pytest.raises(ConfigError, match="Unknown transform"):
        get_transform(SWAP)


# -- a model ----------------------------------------------------------------------------------
MODEL = "regnet_xxs"


@pytest.fixture
def registered_model(one_thread):
    """``regnet_xxs`` (a 2-block ConvNet) registered in family convnet, then unregistered."""
    assert MODEL not in list_models()

    def regnet_xxs(num_classes: int = 10, **kwargs) -> ConvNet:
        """Registration test: 2 conv-BN-ReLU blocks, widths 4-8, 8-d features."""
        return ConvNet((4, 8), num_classes=num_classes, **kwargs)

    register_model("convnet")(regnet_xxs)
    try:
        yield model_info(MODEL)
    finally:
        unregister_model(MODEL)
    assert MODEL not in list_models()


def test_a_registered_model_is_listed_built_and_passes_the_contract(registered_model, runner):
    res = runner.invoke(app, ["models"])
    assert res.exit_code == 0, res.output
    assert MODEL in res.output and "Registration test" in res.output
    res = runner.invoke(app, ["models", "regnet*"])
    assert res.exit_code == 0 and MODEL in res.output and "resnet18" not in res.output
    net = create_model(MODEL, num_classes=3)
    assert isinstance(net, ConvNet) and net.num_features == 8 and net.num_classes == 3
    mc.run_contract(MODEL, paper=False)


# -- an experiment ----------------------------------------------------------------------------
EXPERIMENT = "regtest"


def regtest_aggregate(records: list[dict], profile: str | None) -> dict:
    accs = [r["result"]["probes"]["a"]["test_acc"] for r in records]
    return {"markdown": f"{len(records)} runs at profile {profile}; probe a {accs}\n"}


@pytest.fixture
def registered_experiment():
    """``regtest`` (one tiny run per seed, profile smoke only) registered, then unregistered."""
    assert EXPERIMENT not in EXPERIMENTS

    def regtest(profile: str, seeds: tuple[int, ...]):
        """Registration test: one tiny run per seed."""
        return [tiny_spec(seed=s) for s in seeds]

    register_experiment(EXPERIMENT, regtest_aggregate, aliases=("rt",),
                        profiles=("smoke",))(regtest)
    try:
        yield EXPERIMENTS[EXPERIMENT]
    finally:
        unregister_experiment(EXPERIMENT)
    assert EXPERIMENT not in EXPERIMENTS


def test_a_registered_experiment_is_listed_and_runs(registered_experiment, runner, tmp_path,
                                                    one_thread):
    res = runner.invoke(app, ["experiments"])
    assert res.exit_code == 0, res.output
    assert f" {EXPERIMENT} " in res.output and "Registration test" in res.output
    assert get_experiment("rt") is registered_experiment

    out = tmp_path / "rt"
    res = runner.invoke(app, ["run", EXPERIMENT, "--profile", "smoke", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 computed, 0 reused" in res.output
    assert list(results(out)) == [spec_hash(tiny_spec(seed=0))]
    assert (out / "report.md").read_text().count("1 runs at profile smoke") == 1
    res = runner.invoke(app, ["run", "rt", "--profile", "smoke", "--out", str(out)])
    assert res.exit_code == 0 and "0 computed, 1 reused" in res.output, res.output
    res = runner.invoke(app, ["run", EXPERIMENT, "--profile", "quick", "--out", str(out)])
    assert res.exit_code == 2 and "Unknown profile 'quick'" in res.output


def test_an_unregistered_experiment_is_gone(runner, tmp_path):
    register_experiment(EXPERIMENT, regtest_aggregate)(lambda profile, seeds: [])
    unregister_experiment(EXPERIMENT)
    res = runner.invoke(app, ["experiments"])
    assert res.exit_code == 0 and f" {EXPERIMENT} " not in res.output
    res = runner.invoke(app, ["run", EXPERIMENT, "--profile", "smoke", "--out", str(tmp_path)])
    assert res.exit_code == 2 and f"Unknown experiment '{EXPERIMENT}'" in res.output


def test_report_of_a_grid_whose_model_is_not_registered_says_how(registered_model, runner,
                                                                tmp_path):
    """A grid run by a script that registered its model, reported later from the shell: the
    error names the model and how to make it known, not just "Unknown model"."""
    out = tmp_path / "e4-mine"
    res = runner.invoke(app, ["run", "e4", "--profile", "smoke", "--set", f"model={MODEL}",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    unregister_model(MODEL)  # a fresh `t2d report` process: the script's model is unknown
    try:
        res = runner.invoke(app, ["report", str(out)])
    finally:
        register_model("convnet")(registered_model.fn)
    msg = " ".join(res.output.split())
    assert res.exit_code == 2 and f"use model '{MODEL}', not registered in this process" in msg
    assert "@register_model" in msg and "did you mean" not in msg
    res = runner.invoke(app, ["report", str(out)])  # registered again: the report is rebuilt
    assert res.exit_code == 0, res.output
