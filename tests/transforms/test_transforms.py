"""The paper's 18 transforms: registry-wide tests, then each transform's defining property (the
per-transform contract battery, also run on transforms registered at run time, is in
test_contract.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

from transforms2d import TRANSFORMS, ConfigError
from transforms2d.rng import Draws
from transforms2d.transforms import REGISTRY, apply_params, get_transform, sample_params

ALL = (*TRANSFORMS, "none")


def canvas(b: int = 8, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Random-colour RGBA canvases with a 22×22 opaque object box at offset 5 (like
    docs/protocol.md §1.1)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 4, size, size, generator=g)
    x[:, 3] = 0.0
    x[:, 3, 5:27, 5:27] = 1.0
    return x


def draw(name: str, b: int, size: int = 32, key: int = 7, **over):
    return sample_params(get_transform(name), Draws(key, torch.arange(b)), size, over)


def run(name: str, x: torch.Tensor, **over) -> torch.Tensor:
    return apply_params(get_transform(name), x, draw(name, x.shape[0], x.shape[-1], **over))


# -- registry-wide contract ------------------------------------------------------------------
def test_registry_has_the_18_in_spec_order():
    assert len(TRANSFORMS) == 18 and set(REGISTRY) == set(ALL)
    assert TRANSFORMS[:6] == ("scale", "translate", "v_flip", "h_flip", "rotate", "shear")
    assert TRANSFORMS[-1] == "contrast"


@pytest.mark.parametrize("name", ALL)
def test_shape_range_and_replay(name):
    x = canvas(16)
    params = draw(name, 16)
    y1 = apply_params(get_transform(name), x, params)
    y2 = apply_params(get_transform(name), x, params)
    assert y1.shape == x.shape and y1.dtype == torch.float32
    assert torch.equal(y1, y2), "replaying stored parameters must reproduce the output"
    assert float(y1.min()) >= 0.0 and float(y1.max()) <= 1.0
    assert torch.isfinite(y1).all()


@pytest.mark.parametrize("name", ALL)
def test_batch_independence(name):
    x = canvas(9)
    info = get_transform(name)
    full = apply_params(info, x, sample_params(info, Draws(3, torch.arange(9)), 32))
    for i in (0, 4, 8):
        one = sample_params(info, Draws(3, torch.tensor([i])), 32)
        assert torch.equal(apply_params(info, x[i:i + 1], one)[0], full[i])


@pytest.mark.parametrize("name", ALL)
def test_empty_batch(name):
    assert run(name, canvas(0)).shape == (0, 4, 32, 32)


@pytest.mark.parametrize("name", [n for n in ALL if get_transform(n).group == "photometric"]
                         + ["noise", "contrast"])
def test_rgb_only_transforms_keep_alpha(name):
    x = canvas(16)
    assert not get_transform(name).changes_alpha
    assert torch.equal(run(name, x)[:, 3], x[:, 3])


@pytest.mark.parametrize("name", [n for n in ALL if "p" in get_transform(n).defaults])
def test_probability_half_applies_to_about_half(name):
    params = draw(name, 4000)
    assert 1800 < params["index"].numel() < 2200
    assert draw(name, 50, p=0.0)["index"].numel() == 0
    assert draw(name, 50, p=1.0)["index"].numel() == 50


def test_unknown_transform_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'rotate'"):
        get_transform("rotat")


def test_bad_override_is_one_line_error():
    with pytest.raises(ConfigError, match="no parameter 'angel'"):
        draw("rotate", 2, angel=(0, 1))
    with pytest.raises(ConfigError, match="low <= high"):
        draw("rotate", 2, angle=(90, 0))
    with pytest.raises(ConfigError, match=r"'p' parameter of transform 'invert' must be a "
                                          r"number in \[0, 1\]"):
        draw("invert", 2, p=1.5)


@pytest.mark.parametrize("name,key,low,high", [
    ("scale", "factor", 0.4, 1.0), ("rotate", "angle", 0.0, 360.0), ("shear", "angle", -50, 50),
    ("hue", "shift", -0.5, 0.5), ("brightness", "factor", 0.0, 2.0),
    ("contrast", "factor", 0.0, 2.0), ("blur", "sigma", 0.1, 1.5),
])
def test_sampler_ranges_are_the_papers(name, key, low, high):
    v = draw(name, 5000)[key]
    assert float(v.min()) >= low and float(v.max()) < high
    margin = 0.05 * (high - low)
    assert float(v.min()) < low + margin and float(v.max()) > high - margin


def test_override_changes_the_range():
    v = draw("rotate", 1000, angle=(10.0, 20.0))["angle"]
    assert float(v.min()) >= 10.0 and float(v.max()) < 20.0


# -- defining properties ---------------------------------------------------------------------
def test_flips_twice_are_identity():
    x = canvas()
    for name in ("h_flip", "v_flip"):
        f = get_transform(name).apply
        assert torch.equal(f(f(x)), x)
    assert torch.equal(get_transform("h_flip").apply(x), x.flip(-1))


def test_rotate_90_is_array_rotation():
    x = canvas(4)
    y = get_transform("rotate").apply(x, angle=torch.full((4,), 90.0))
    torch.testing.assert_close(y, torch.rot90(x, 1, (-2, -1)), atol=1e-4, rtol=0)


def test_rotate_zero_scale_one_shear_zero_are_identity():
    x = canvas(4)
    zeros = torch.zeros(4)
    torch.testing.assert_close(get_transform("rotate").apply(x, angle=zeros), x, atol=1e-5, rtol=0)
    torch.testing.assert_close(get_transform("scale").apply(x, factor=zeros + 1), x, atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(get_transform("shear").apply(x, angle=torch.zeros(4, 2)), x,
                               atol=1e-5, rtol=0)


def test_shear_and_scale_geometry():
    x = canvas(2)
    half = get_transform("scale").apply(x, factor=torch.tensor([0.5, 0.5]))
    assert abs(float(half[:, 3].sum(dim=(1, 2)).mean()) - 22 * 22 / 4) < 6
    sheared = get_transform("shear").apply(x, angle=torch.tensor([[30.0, 0.0], [0.0, -30.0]]))
    assert abs(float(sheared[:, 3].sum(dim=(1, 2)).mean()) - 22 * 22) < 12  # area kept (det 1)


def test_invert_twice_is_identity():
    x = canvas()
    f = get_transform("invert").apply
    torch.testing.assert_close(f(f(x)), x, atol=1e-6, rtol=0)


def test_grayscale_gives_equal_channels():
    y = get_transform("grayscale").apply(canvas())
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])


def test_posterize_leaves_two_levels_per_channel():
    y = get_transform("posterize").apply(canvas(), bits=1)
    levels = torch.unique(torch.round(y[:, :3] * 255)).tolist()
    assert levels == [0.0, 128.0]


def test_hue_full_turn_is_identity_and_half_turn_swaps_colours():
    x = canvas(3)
    f = get_transform("hue").apply
    torch.testing.assert_close(f(x, shift=torch.ones(3)), x, atol=1e-5, rtol=0)
    red = torch.zeros(1, 4, 2, 2)
    red[:, 0] = red[:, 3] = 1.0
    cyan = f(red, shift=torch.tensor([0.5]))
    torch.testing.assert_close(cyan[0, :3, 0, 0], torch.tensor([0.0, 1.0, 1.0]), atol=1e-6,
                               rtol=0)


def test_erasing_makes_a_14_square_transparent():
    x = torch.ones(1, 4, 32, 32)
    params = draw("erasing", 1, p=1.0)
    y = apply_params(get_transform("erasing"), x, params)
    r, c = params["corner"][0].tolist()
    assert float(y[0, 3, r:r + 14, c:c + 14].max()) == 0.0
    assert int((y[0, 3] == 0).sum()) == 14 * 14
    assert torch.equal(y[:, :3], x[:, :3])


def test_translate_keeps_the_whole_object_inside():
    x = canvas(64)
    x[:, 3] = 0.0
    x[:, 3, 5:15, 5:27] = 1.0  # a 10×22 box
    y = run("translate", x)
    assert torch.equal(y[:, 3].sum((1, 2)), x[:, 3].sum((1, 2)))  # nothing cut off
    moved = [(y[i, 3] > 0).nonzero().min(0).values.tolist() for i in range(64)]
    assert len({tuple(m) for m in moved}) > 20  # positions vary
    rows = [m[0] for m in moved]
    assert min(rows) >= 0 and max(rows) <= 32 - 10


def test_registry_translate_cannot_move_a_full_canvas():
    """Why whole images need their own translate: the registry's translate moves the alpha box
    within the free room, and an opaque image leaves none (on objects it is symmetric)."""
    info = get_transform("translate")
    idx = torch.arange(4000)
    params = sample_params(info, Draws(5, idx), 32)
    full = torch.rand(len(idx), 4, 32, 32)
    full[:, 3] = 1.0
    assert torch.equal(apply_params(info, full, params), full)
    box = torch.zeros(len(idx), 4, 32, 32)
    box[:, :, 5:27, 5:27] = 1.0  # the Transforms-2D object box: 22 px at offset 5
    alpha = apply_params(info, box, params)[:, 3]
    top = alpha.any(2).float().argmax(1) - 5
    left = alpha.any(1).float().argmax(1) - 5
    for d in (top, left):
        assert d.min() == -5 and d.max() == 5 and abs(float(d.float().mean())) < 0.25


def test_noise_is_clipped_and_pixelate_is_blocky():
    y = run("noise", canvas(8), p=1.0)
    assert float(y.min()) == 0.0 and float(y.max()) == 1.0
    z = run("pixelate", canvas(2), p=1.0)
    assert torch.unique(z[0, 0]).numel() <= 9 * 9


def test_blur_and_elastic_change_alpha_smoothly():
    x = canvas(4)
    b = run("blur", x)
    assert ((b[:, 3] > 0) & (b[:, 3] < 1)).any()
    e = run("elastic", x, p=1.0)
    assert not torch.equal(e[:, 3], x[:, 3])
    # Displacements of ~6 px std (alpha 150 px, sigma 5 px) move mass but keep most of it.
    assert abs(float(e[:, 3].sum() - x[:, 3].sum())) / float(x[:, 3].sum()) < 0.5


@pytest.mark.parametrize("name,enhancer", [
    ("brightness", ImageEnhance.Brightness), ("contrast", ImageEnhance.Contrast),
    ("sharpen", ImageEnhance.Sharpness),
])
@pytest.mark.parametrize("factor", [0.3, 1.7, 7.0])
def test_enhancers_match_pillow(name, enhancer, factor):
    g = np.random.default_rng(0)
    # A smooth-ish RGB picture (an opaque canvas), so contrast and sharpness have structure.
    base = g.integers(0, 256, (8, 8, 3)).astype(np.uint8)
    img = Image.fromarray(base).resize((32, 32), Image.BILINEAR)
    ref = np.asarray(enhancer(img).enhance(factor)).astype(np.float32) / 255.0
    arr = np.asarray(img).astype(np.float32) / 255.0
    x = torch.ones(1, 4, 32, 32)
    x[0, :3] = torch.from_numpy(arr).permute(2, 0, 1)
    key = "factor"
    params = {key: torch.tensor([factor])} if name != "sharpen" else {key: factor}
    y = get_transform(name).apply(x, **params)[0, :3].permute(1, 2, 0).numpy()
    assert np.abs(y - ref).max() <= 2 / 255 + 1e-6
