"""``transforms2d.profile``: real models (built, scripted, exported, trained in the test), real
image folders, exact bootstrap arithmetic."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import transforms2d as t2d
from transforms2d.errors import ConfigError
from transforms2d.metrics import invariance, linear_cka
from transforms2d.models import create_model
from transforms2d.profiling import STRENGTHS, load_model
from transforms2d.profiling.layers import blocks
from transforms2d.profiling.stats import bootstrap_weights, weighted_cka
from transforms2d.transforms import get_transform
from transforms2d.transforms.registry import resolve_hyper

pytestmark = pytest.mark.usefixtures("one_thread")


def image_folder(root, n: int = 24, size: int = 24):
    """``n`` photographs-like RGB images (smooth gradients + a square), two classes."""
    gen = np.random.default_rng(0)
    for k in range(n):
        d = root / f"class{k % 2}"
        d.mkdir(parents=True, exist_ok=True)
        yy, xx = np.mgrid[0:size, 0:size] / size
        img = np.stack([xx, yy, (xx + yy) / 2], -1) * gen.uniform(0.3, 1.0, 3)
        a, b = gen.integers(0, size // 2, 2)
        img[a:a + size // 3, b:b + size // 4] = gen.uniform(0, 1, 3)
        Image.fromarray((img * 255).astype(np.uint8)).save(d / f"{k}.png")
    return root


class FlipAveraged(nn.Module):
    """Exactly invariant to horizontal flips of the whole image by construction."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.net.features(x) + self.net.features(x.flip(3))) / 2


class Features(nn.Module):
    """A model's ``features()`` as its forward (what one scripts or exports)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)


def l2(res, **where) -> float:
    rows = [r for r in res.rows if r["metric"] == "l2" and not r["untrained"]
            and all(r[k] == v for k, v in where.items())]
    assert len(rows) == 1, rows
    return rows[0]["value"]


def test_flip_averaged_model_is_invariant_to_h_flip_not_to_rotate(tmp_path):
    torch.manual_seed(0)
    model = FlipAveraged(create_model("convnet_xs", num_classes=4))
    res = t2d.profile({"flipavg": model}, transforms="h_flip,rotate",
                      domains=f"folder:{image_folder(tmp_path)}", pairs=48, batch_size=16,
                      resamples=200)
    assert l2(res, transform="h_flip") < 1e-5
    assert l2(res, transform="rotate") > 0.05
    row = next(r for r in res.rows if r["transform"] == "rotate" and r["metric"] == "l2")
    assert row["ci_low"] < row["value"] < row["ci_high"]


def test_default_layer_equals_the_invariance_metric(tiny_data):
    torch.manual_seed(1)
    net = create_model("convnet_xs", num_classes=4)
    res = t2d.profile({"m": net}, transforms="rotate", domains="objects", pairs=120,
                      batch_size=40, metrics=["l2", "cka"], reference=False, resamples=50)
    ds = t2d.Transforms2D(objects=60, transforms=["rotate"], n=120, split="test")
    ref = invariance(net, ds, ds.twin("transform", 1), ("l2", "cka"), seed=0, batch_size=40)
    assert l2(res, transform="rotate") == pytest.approx(ref["l2"], rel=1e-6)
    cka = next(r["value"] for r in res.rows if r["metric"] == "cka")
    assert cka == pytest.approx(ref["cka"], rel=1e-6)


def _train_hue_and_plain():
    from transforms2d.train import TrainConfig, train

    out = {}
    for name, ts in (("hue", ["hue"]), ("plain", [])):
        torch.manual_seed(0)
        net = create_model("convnet_xs", num_classes=6)
        ds = t2d.Transforms2D(objects=6, transforms=ts, n=1200, image_size=16, seed=3)
        train(net, ds, TrainConfig(epochs=8, batch_size=100, lr=3e-3, progress=False))
        out[name] = net
    return out


def test_training_with_hue_makes_the_model_more_hue_invariant():
    # Measured while writing this test: an untrained convnet_xs is already about as
    # hue-invariant (l2 0.31) as one trained with hue (0.32), far more than one trained
    # without it (0.60) - which is what the untrained reference line is there to show.
    nets = _train_hue_and_plain()
    res = t2d.profile(nets, transforms="hue", domains="objects", pairs=200, image_size=16,
                      batch_size=100, resamples=200)
    assert l2(res, model="hue") < l2(res, model="plain") - 0.1
    ref = [r for r in res.rows if r["untrained"] and r["metric"] == "l2"]
    assert len(ref) == 2 and ref[0]["value"] == ref[1]["value"]  # one architecture, one seed


def test_scripted_exported_and_entry_point_models_give_the_same_numbers(tmp_path, monkeypatch):
    torch.manual_seed(2)
    net = create_model("convnet_xs", num_classes=4).eval()
    torch.jit.trace(Features(net), torch.zeros(2, 3, 32, 32)).save(str(tmp_path / "net.ts"))
    batch = torch.export.Dim("batch", min=2)
    prog = torch.export.export(Features(net).eval(), (torch.zeros(4, 3, 32, 32),),
                               dynamic_shapes={"x": {0: batch}})
    torch.export.save(prog, str(tmp_path / "net.pt2"))
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    (tmp_path / "my_models.py").write_text(textwrap.dedent("""
        from transforms2d.models import create_model
        def small():
            return create_model("convnet_xs", num_classes=4)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("my_models", None)
    kinds = {"memory": net, "script": load_model(tmp_path / "net.ts"),
             "export": load_model(tmp_path / "net.pt2"),
             "entry": load_model("my_models:small", weights=tmp_path / "weights.pt")}
    assert [kinds[k].kind for k in ("script", "export", "entry")] == \
        ["torchscript", "export", "entry point"]
    res = t2d.profile(kinds, transforms="rotate,hue", domains="objects", pairs=64,
                      batch_size=32, metrics=["l2", "cka"], reference=False, resamples=20)
    for metric in ("l2", "cka"):
        vals = {r["model"]: r["value"] for r in res.rows
                if r["metric"] == metric and r["transform"] == "hue"}
        for k in ("script", "export", "entry"):
            assert vals[k] == pytest.approx(vals["memory"], rel=1e-4, abs=1e-6), (metric, k)


def test_layers_all_gives_one_row_per_block(tiny_model):
    net = tiny_model(name="resnet_s", num_classes=4)
    res = t2d.profile({"r": net}, transforms="rotate", domains="random", pairs=40,
                      batch_size=20, layers="all", metrics=["l2"], reference=False,
                      resamples=20)
    layers = [r["layer"] for r in res.rows]
    assert layers == blocks(net)
    assert len(layers) == len(set(layers)) >= 4
    one = t2d.profile({"r": net}, transforms="rotate", domains="random", pairs=40,
                      batch_size=20, layer="stages.1", metrics=["l2"], reference=False,
                      resamples=20)
    assert [r["layer"] for r in one.rows] == ["stages.1"]


def test_default_representation_is_the_input_of_the_last_linear():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(4, 3))
    res = t2d.profile({"seq": model}, transforms="hue", domains="random", pairs=20,
                      batch_size=10, metrics=["l2"], resamples=20)
    assert {r["layer"] for r in res.rows} == {"4:in"}
    assert "4:in (4 dims)" in res.models[0]["representation"]


def test_strength_sweep_rows_and_levels(tmp_path):
    torch.manual_seed(0)
    net = create_model("convnet_xs", num_classes=4)
    res = t2d.profile({"m": net}, transforms="rotate,h_flip", domains="objects", pairs=60,
                      batch_size=30, levels=5, metrics=["l2"], reference=False, resamples=20)
    levels = sorted(r["level"] for r in res.rows if r["transform"] == "rotate"
                    and r["level"] is not None)
    assert levels == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert not [r for r in res.rows if r["transform"] == "h_flip" and r["level"] is not None]
    small = l2(res, transform="rotate", level=0.2)
    assert small < l2(res, transform="rotate", level=1.0)
    written = res.save(tmp_path / "out")
    assert any(p.endswith("strength.png") for p in written)


@pytest.mark.parametrize("name", sorted(STRENGTHS))
def test_every_strength_level_is_valid_and_full_strength_is_the_paper(name):
    info = get_transform(name)
    for level in (0.2, 0.6, 1.0):
        resolve_hyper(info, STRENGTHS[name].overrides(level))
    full = STRENGTHS[name].overrides(1.0)
    for key, value in full.items():
        default = info.defaults[key]
        assert tuple(value) == tuple(default) if isinstance(default, tuple) else \
            value == default, (name, key)


def test_weighted_cka_is_exact_for_every_resample():
    gen = torch.Generator().manual_seed(0)
    z1 = torch.randn(50, 7, generator=gen)
    z2 = z1 @ torch.randn(7, 5, generator=gen) + 0.3 * torch.randn(50, 5, generator=gen)
    assert float(weighted_cka(z1, z2, torch.ones(1, 50, dtype=torch.float64))[0]) == \
        pytest.approx(linear_cka(z1, z2), rel=1e-10)
    w = bootstrap_weights(50, 4, seed=1)
    assert torch.equal(w.sum(1), torch.full((4,), 50.0, dtype=torch.float64))
    got = weighted_cka(z1, z2, w)
    for k in range(4):
        idx = torch.repeat_interleave(torch.arange(50), w[k].long())
        assert float(got[k]) == pytest.approx(linear_cka(z1[idx], z2[idx]), rel=1e-9)


def test_bad_inputs_are_one_line_errors(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a model file"):
        load_model(tmp_path / "junk.pt")
    with pytest.raises(ConfigError, match="Cannot import entry point"):
        load_model("no_such_module_xyz:factory")
    with pytest.raises(ConfigError, match="neither a file"):
        load_model("not/here.pt")
    net = create_model("convnet_xs", num_classes=4)
    with pytest.raises(ConfigError, match="no layer 'nope'; layers: "):
        t2d.profile({"m": net}, transforms="hue", layer="nope", pairs=10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="No images"):
        t2d.profile({"m": net}, transforms="hue", domains=f"folder:{tmp_path / 'empty'}",
                    pairs=10)
    vit = create_model("vit_s", num_classes=4, image_size=32)
    with pytest.raises(ConfigError, match="rejects a batch of 24x24 inputs.*--image-size"):
        t2d.profile({"v": vit}, transforms="hue", image_size=24, pairs=10)


class TupleOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)

    def forward(self, x):
        return {"a": self.conv(x), "b": 1}


def test_a_model_returning_a_dict_says_how_to_pick_a_layer():
    with pytest.raises(ConfigError, match="returns a dict.*--layer NAME"):
        t2d.profile({"d": TupleOut()}, transforms="hue", pairs=10, layer="output")
    res = t2d.profile({"d": TupleOut()}, transforms="hue", pairs=10, layer="conv",
                      metrics=["l2"], domains="random", resamples=10)
    assert res.rows[0]["layer"] == "conv"
