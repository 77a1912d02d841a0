"""Corruptions (docs/protocol.md §2, #13–18).

``blur``, ``pixelate``, ``elastic`` and ``erasing`` change the alpha mask too; ``noise`` and
``contrast`` change the object's RGB only. Pixel quantities (blur kernel and sigma, elastic
alpha and sigma, erasing size) are the paper's values at 32 px and scale with the image side.
"""

from __future__ import annotations

import math

from .._lazy import lazy_import
from ..rng import Draws
from .ops import gaussian_kernels, luminance, rgb_copy, separable_filter
from .registry import MAX_HYPER, register, sample_factor

torch = lazy_import("torch")

REF_SIZE = 32  # the paper's resolution, at which pixel-valued parameters are given


def _px(value: float, size: int) -> float:
    return value * size / REF_SIZE


def sample_blur(d: Draws, size: int, sigma=(0.1, 1.5), kernel: int = 7) -> dict:
    """Returns ``sigma (n,)`` pixels ~ U[sigma] and the static odd ``kernel`` side."""
    k = max(3, int(round(_px(kernel, size))) | 1)
    return {"sigma": d.uniform(1, _px(sigma[0], size), _px(sigma[1], size))[:, 0], "kernel": k}


@register("blur", "corruption", sample_blur, "Gaussian blur, kernel 7, sigma ~ U[0.1, 1.5]",
          changes_alpha=True, limits={"sigma": (0, MAX_HYPER, True), "kernel": (1, 32, False)},
          sigma=(0.1, 1.5), kernel=7)
def apply_blur(x: torch.Tensor, sigma: torch.Tensor, kernel: int) -> torch.Tensor:
    """Gaussian blur of all four channels, per-sample ``sigma (B,)``, reflect padding.

    A dot away from the border spreads over its neighbours and keeps its total:

    >>> dot = torch.zeros(1, 4, 9, 9); dot[..., 4, 4] = 1.0
    >>> out = apply_blur(dot, torch.tensor([1.0]), 3)
    >>> torch.allclose(out.sum((2, 3)), torch.ones(1, 4)), round(out[0, 0, 4, 4].item(), 4)
    (True, 0.2042)
    """
    # Weights sum to 1 only up to rounding: clamp so values stay in [0, 1].
    return separable_filter(x, gaussian_kernels(sigma, kernel)).clamp_(0.0, 1.0)


def sample_noise(d: Draws, size: int, std: float = 1.0) -> dict:
    """Returns ``noise (n, 3, size, size)`` ~ N(0, std²)."""
    n = d.index.shape[0]
    return {"noise": d.table("normal", 3 * size * size).view(n, 3, size, size) * std}


@register("noise", "corruption", sample_noise, "p=0.5: add N(0, 1) noise, clipped to [0, 1]",
          p=0.5, std=1.0)
def apply_noise(x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Add ``noise (B, 3, H, W)`` to RGB and clip to [0, 1] (the original wrapped around).

    Zero noise is the identity; noise of 1 saturates RGB and leaves alpha alone:

    >>> x = torch.rand(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> torch.equal(apply_noise(x, torch.zeros(2, 3, 8, 8)), x)
    True
    >>> out = apply_noise(x, torch.ones(2, 3, 8, 8))
    >>> out[:, :3].min().item(), torch.equal(out[:, 3], x[:, 3])
    (1.0, True)
    """
    out, rgb = rgb_copy(x)
    rgb.add_(noise).clamp_(0.0, 1.0)
    return out


def sample_pixelate(d: Draws, size: int, ratio: float = 0.3) -> dict:
    """Returns the static side ``small`` = int(size * ratio) of the downsampled image."""
    return {"small": max(1, int(size * ratio))}


@register("pixelate", "corruption", sample_pixelate,
          "p=0.5: box-downsample to 30%, nearest-upsample back", True,
          limits={"ratio": (0, 1, True)}, p=0.5, ratio=0.3)
def apply_pixelate(x: torch.Tensor, small: int) -> torch.Tensor:
    """Box-average down to ``small × small``, then nearest-neighbour back up (RGBA).

    Half the side gives 2×2 blocks of their mean; ``small`` = 1 fills each image with its mean:

    >>> x = torch.rand(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> blocks = torch.nn.functional.avg_pool2d(x, 2).repeat_interleave(2, -2)
    >>> torch.equal(apply_pixelate(x, 4), blocks.repeat_interleave(2, -1))
    True
    >>> torch.allclose(apply_pixelate(x, 1), x.mean((2, 3), keepdim=True).expand_as(x))
    True
    """
    h, w = x.shape[-2:]
    down = torch.nn.functional.adaptive_avg_pool2d(x, (small, small))
    return torch.nn.functional.interpolate(down, size=(h, w), mode="nearest")


def sample_elastic(d: Draws, size: int, alpha: float = 150.0, sigma: float = 5.0) -> dict:
    """Returns ``field (n, 2, size, size)`` ~ U[-1, 1) (unsmoothed displacement, x then y) and
    the static ``alpha`` and ``sigma`` in pixels at this size."""
    n = d.index.shape[0]
    field = d.table("uniform", 2 * size * size).view(n, 2, size, size) * 2.0 - 1.0
    # Smoothed white noise shrinks as 1/sigma, so alpha scales with size² to keep the
    # displacement a fixed fraction of the image.
    return {"field": field, "alpha": alpha * (size / REF_SIZE) ** 2, "sigma": _px(sigma, size)}


@register("elastic", "corruption", sample_elastic,
          "p=0.5: elastic deformation, alpha 150, sigma 5", True,
          limits={"sigma": (0, MAX_HYPER, True)}, p=0.5, alpha=150.0, sigma=5.0)
def apply_elastic(x: torch.Tensor, field: torch.Tensor, alpha: float, sigma: float):
    """Displace pixels by ``alpha *`` Gaussian-smoothed ``field`` pixels, bilinear (RGBA).

    A zero field is the identity; a uniform x field of 1 samples one pixel to the right, so
    the image moves one pixel left and a transparent column enters:

    >>> x = torch.rand(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> field = torch.zeros(2, 2, 8, 8)
    >>> torch.allclose(apply_elastic(x, field, 1.0, 1.0), x, atol=1e-6)
    True
    >>> field[:, 0] = 1.0
    >>> out = apply_elastic(x, field, 1.0, 1.0)
    >>> torch.allclose(out[..., :-1], x[..., 1:], atol=1e-6), out[..., -1].abs().max().item()
    (True, 0.0)
    """
    b, _, h, w = x.shape
    k = min(2 * math.ceil(3 * sigma) + 1, 2 * min(h, w) - 1)  # reflect pad must be < side
    kernels = gaussian_kernels(torch.full((b,), sigma, device=x.device), k)
    disp = separable_filter(field, kernels) * alpha  # (B, 2, H, W) in pixels
    ys = torch.arange(h, device=x.device, dtype=torch.float32)
    xs = torch.arange(w, device=x.device, dtype=torch.float32)
    gx = (xs[None, None, :] + disp[:, 0] + 0.5) * (2.0 / w) - 1.0
    gy = (ys[None, :, None] + disp[:, 1] + 0.5) * (2.0 / h) - 1.0
    grid = torch.stack([gx, gy], -1)
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=False)


def sample_erasing(d: Draws, size: int, side: int = 14) -> dict:
    """Returns the square's top-left ``corner (n, 2)`` (row, column) and static ``side``."""
    s = min(size, max(1, int(round(_px(side, size)))))
    corner = torch.stack([d.integers(size - s + 1), d.integers(size - s + 1)], 1)
    return {"corner": corner, "side": s}


@register("erasing", "corruption", sample_erasing,
          "p=0.5: a random 14x14 square made transparent", True, p=0.5, side=14)
def apply_erasing(x: torch.Tensor, corner: torch.Tensor, side: int) -> torch.Tensor:
    """Set alpha to 0 inside the ``side × side`` square at ``corner (B, 2)``; RGB kept.

    >>> out = apply_erasing(torch.ones(1, 4, 4, 4), torch.tensor([[1, 0]]), 2)
    >>> out[0, 3].tolist(), out[:, :3].min().item()
    ([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]], 1.0)
    """
    h, w = x.shape[-2:]
    r = torch.arange(h, device=x.device)[None, :] - corner[:, :1]
    c = torch.arange(w, device=x.device)[None, :] - corner[:, 1:]
    inside = ((r >= 0) & (r < side))[:, :, None] & ((c >= 0) & (c < side))[:, None, :]
    out = x.clone()
    out[:, 3].masked_fill_(inside, 0.0)
    return out


def contrast_degenerate(x: torch.Tensor) -> torch.Tensor:
    """``(B, 1, 1, 1)`` alpha-weighted mean luma of the object, rounded to 8 bits (Pillow)."""
    a = x[:, 3:4]
    num = (luminance(x[:, :3]) * a).sum((1, 2, 3))
    den = a.sum((1, 2, 3)).clamp_min(1e-6)
    return (torch.floor(num / den * 255.0 + 0.5) / 255.0)[:, None, None, None]


@register("contrast", "corruption", sample_factor, "contrast factor ~ U[0, 2], object only",
          factor=(0.0, 2.0))
def apply_contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Pillow's Contrast about the object's mean luma, factor ``(B,)``, clipped to [0, 1].

    Factor 0 paints the object's mean luma (8-bit) everywhere; only opaque pixels count:
    a black-and-white object reads 128, and 0 once its white half is transparent.

    >>> x = torch.zeros(1, 4, 2, 2); x[:, :3, 0] = 1.0; x[:, 3] = 1.0
    >>> (apply_contrast(x, torch.zeros(1))[0, :3] * 255).round().unique().tolist()
    [128.0]
    >>> x[:, 3, 0] = 0.0
    >>> apply_contrast(x, torch.zeros(1))[0, :3].unique().tolist()
    [0.0]
    """
    mean = contrast_degenerate(x)
    out, rgb = rgb_copy(x)
    rgb.sub_(mean).mul_(factor[:, None, None, None]).add_(mean).clamp_(0.0, 1.0)
    return out
