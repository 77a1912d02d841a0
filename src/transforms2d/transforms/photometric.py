"""Photometric transformations (docs/protocol.md §2, #7–12): the object's RGB changes, alpha is
kept.

The object canvas has straight alpha, and the background is composited only after all
transforms, so changing RGB everywhere on the canvas changes the object only. Factors follow
Pillow's ``ImageEnhance`` (``out = degenerate + factor * (image - degenerate)``, clipped).
"""

from __future__ import annotations

from .._lazy import lazy_import
from ..rng import Draws
from ..validation import check_int
from .ops import luminance, rgb_copy, with_rgb
from .registry import register, sample_factor, sample_nothing

torch = lazy_import("torch")


def sample_hue(d: Draws, size: int, shift=(-0.5, 0.5)) -> dict:
    """Returns ``shift (n,)`` ~ U[shift], in turns of the hue circle."""
    return {"shift": d.uniform(1, *shift)[:, 0]}


@register("hue", "photometric", sample_hue, "hue shift ~ U[-0.5, 0.5] turns", shift=(-0.5, 0.5))
def apply_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the HSV hue of every pixel by ``shift (B,)`` turns; saturation and value kept.

    Elementwise only (``maximum``/``minimum`` chains and 0/1 masks instead of ``max(dim)`` and
    ``where``, which are several times slower on CPU): a sample's result never depends on its
    batch.

    A third of a turn takes pure red to pure green; alpha is kept:

    >>> red = torch.tensor([1.0, 0.0, 0.0, 0.5]).view(1, 4, 1, 1)
    >>> apply_hue(red, torch.tensor([1 / 3])).flatten().tolist()
    [0.0, 1.0, 0.0, 0.5]
    """
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    maxc = torch.maximum(torch.maximum(r, g), b)
    delta = maxc - torch.minimum(torch.minimum(r, g), b)
    # Which channel is the max (ties resolve to the first, as in HSV), as 0/1 masks.
    mr = (r == maxc).float()
    mg = (g == maxc).float().mul_(1.0 - mr)
    mb = 1.0 - mr - mg
    # Hue in sixths: r max → (g − b)/Δ, g max → 2 + (b − r)/Δ, b max → 4 + (r − g)/Δ.
    num = mr * (g - b) + mg * (b - r) + mb * (r - g)
    h6 = num.div_(delta.clamp_min(1e-12)).add_(mg * 2.0).add_(mb * 4.0)
    h6 = torch.remainder(h6.add_(shift[:, None, None, None] * 6.0), 6.0)  # [0, 6)
    # HSV → RGB per channel n ∈ (5, 3, 1): c = v − Δ · clamp(min(k, 4 − k), 0, 1), k = h6 + n mod 6.
    k = h6 + torch.tensor(HUE_OFFSETS, device=x.device).view(1, 3, 1, 1)  # [1, 11)
    k.sub_((k >= 6.0).float().mul_(6.0))
    t = torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)
    out = torch.empty_like(x)
    torch.sub(maxc, t.mul_(delta), out=out[:, :3])
    out[:, 3] = x[:, 3]
    return out


HUE_OFFSETS = (5.0, 3.0, 1.0)  # n of the HSV -> RGB formula, per channel


@register("brightness", "photometric", sample_factor, "brightness factor ~ U[0, 2]",
          factor=(0.0, 2.0))
def apply_brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Multiply RGB by ``factor (B,)`` (Pillow's Brightness), clipped to [0, 1]; alpha kept.

    >>> x = torch.full((2, 4, 1, 1), 0.8)
    >>> apply_brightness(x, torch.tensor([0.5, 2.0]))[:, :, 0, 0]
    tensor([[0.4000, 0.4000, 0.4000, 0.8000],
            [1.0000, 1.0000, 1.0000, 0.8000]])
    """
    out, rgb = rgb_copy(x)
    rgb.mul_(factor[:, None, None, None]).clamp_(0.0, 1.0)
    return out


@register("grayscale", "photometric", sample_nothing, "to grayscale, p=0.5", p=0.5)
def apply_grayscale(x: torch.Tensor) -> torch.Tensor:
    """Replace RGB by Pillow's luma in all three channels; alpha kept.

    >>> red = torch.tensor([1.0, 0.0, 0.0, 0.5]).view(1, 4, 1, 1)
    >>> apply_grayscale(red).flatten()
    tensor([0.2990, 0.2990, 0.2990, 0.5000])
    """
    return with_rgb(x, luminance(x[:, :3]).expand(-1, 3, -1, -1))


def sample_posterize(d: Draws, size: int, bits: int = 1) -> dict:
    """Returns the static ``bits`` kept per channel."""
    return {"bits": check_int("bits", bits, 1, 8, owner="transform 'posterize'")}


@register("posterize", "photometric", sample_posterize, "keep 1 bit per channel, p=0.5",
          limits={"bits": (1, 8, False)}, p=0.5, bits=1)
def apply_posterize(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Keep the top ``bits`` of each 8-bit channel (Pillow's posterize): 2**bits levels.

    With one bit, 8-bit values below 128 become 0 and the others 128; alpha is kept:

    >>> x = torch.tensor([0.3, 0.6, 1.0, 0.7]).view(1, 4, 1, 1)
    >>> (apply_posterize(x, 1)[0, :3, 0, 0] * 255).round().tolist()
    [0.0, 128.0, 128.0]
    >>> apply_posterize(x, 1)[0, 3, 0, 0].item() == x[0, 3, 0, 0].item()
    True
    """
    step = float(1 << (8 - bits))
    out, rgb = rgb_copy(x)
    rgb.mul_(255.0).add_(0.5).floor_().div_(step).floor_().mul_(step / 255.0)
    return out


@register("invert", "photometric", sample_nothing, "invert colours, p=0.5", p=0.5)
def apply_invert(x: torch.Tensor) -> torch.Tensor:
    """RGB → 1 − RGB; alpha kept.

    >>> apply_invert(torch.tensor([0.25, 0.5, 1.0, 0.75]).view(1, 4, 1, 1)).flatten().tolist()
    [0.75, 0.5, 0.0, 0.75]
    """
    out, rgb = rgb_copy(x)
    rgb.neg_().add_(1.0)
    return out


def sample_sharpen(d: Draws, size: int, factor: float = 7.0) -> dict:
    """Returns the static sharpness ``factor``."""
    return {"factor": float(factor)}


@register("sharpen", "photometric", sample_sharpen, "sharpness factor 7, p=0.5",
          p=0.5, factor=7.0)
def apply_sharpen(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Pillow's Sharpness: blend with the SMOOTH-filtered image (3×3 kernel, centre weight 5,
    total 13; border pixels unfiltered; the blurred image rounded to 8 bits as Pillow does).

    Factor 1 is the identity; factor 7 turns a dim dot into a bright one on a dark ground:

    >>> x = torch.rand(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> torch.allclose(apply_sharpen(x, 1.0), x, atol=1e-6)
    True
    >>> dot = torch.zeros(1, 4, 5, 5); dot[:, :3, 2, 2] = 0.5
    >>> apply_sharpen(dot, 7.0)[0, 0].nonzero().tolist(), apply_sharpen(dot, 7.0).max().item()
    ([[2, 2]], 1.0)
    """
    out, rgb = rgb_copy(x)
    h, w = rgb.shape[-2:]
    b3 = rgb.shape[0] * 3
    tri_w, tri_h = _ones_tridiagonal(w, x.device), _ones_tridiagonal(h, x.device)
    box = torch.matmul(tri_h, torch.mm(rgb.reshape(-1, w), tri_w).view(b3, h, w))
    smooth = box.view_as(rgb).add_(rgb * 4.0).mul_(255.0 / 13.0).add_(0.5).floor_().mul_(1 / 255)
    inner = (slice(None), slice(None), slice(1, h - 1), slice(1, w - 1))
    deg = rgb.clone()
    deg[inner] = smooth[inner]  # Pillow leaves the one-pixel border unfiltered
    rgb.sub_(deg).mul_(factor).add_(deg).clamp_(0.0, 1.0)
    return out


def _ones_tridiagonal(n: int, device: torch.device) -> torch.Tensor:
    """``(n, n)`` matrix with ones on the three central diagonals (a 3-tap box sum)."""
    i = torch.arange(n, device=device)
    return ((i[:, None] - i[None, :]).abs() <= 1).float()
