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
    """Gaussian blur of all four channels, per-sample ``sigma (B,)``, reflect padding."""
    # Weights sum to 1 only up to rounding: clamp so values stay in [0, 1].
    return separable_filter(x, gaussian_kernels(sigma, kernel)).clamp_(0.0, 1.0)


def sample_noise(d: Draws, size: int, std: float = 1.0) -> dict:
    """Returns ``noise (n, 3, size, size)`` ~ N(0, std²)."""
    n = d.index.shape[0]
    return {"noise": d.table("normal", 3 * size * size).view(n, 3, size, size) * std}


@register("noise", "corruption", sample_noise, "p=0.5: add N(0, 1) noise, clipped to [0, 1]",
          p=0.5, std=1.0)
def apply_noise(x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Add ``noise (B, 3, H, W)`` to RGB and clip to [0, 1] (the original wrapped around)."""
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
    """Box-average down to ``small × small``, then nearest-neighbour back up (RGBA)."""
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
    """Displace pixels by ``alpha *`` Gaussian-smoothed ``field`` pixels, bilinear (RGBA)."""
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
    """Set alpha to 0 inside the ``side × side`` square at ``corner (B, 2)``; RGB kept."""
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
    """Pillow's Contrast about the object's mean luma, factor ``(B,)``, clipped to [0, 1]."""
    mean = contrast_degenerate(x)
    out, rgb = rgb_copy(x)
    rgb.sub_(mean).mul_(factor[:, None, None, None]).add_(mean).clamp_(0.0, 1.0)
    return out
