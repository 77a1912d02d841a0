"""Public tensor helpers of the transforms (also used by the renderers): affine warps, shifts,
small filters.

Images are ``(B, C, H, W)`` float32 in [0, 1]; RGBA canvases have straight alpha in channel 3.
Per-sample parameter math (sin, cos, exp) runs in float64 and is rounded to float32 so that a
sample's result does not depend on which SIMD path the batch size selects.
"""

from __future__ import annotations

import math

from .._lazy import lazy_import

torch = lazy_import("torch")  # deferred: listing the registry needs no tensors

# ITU-R 601-2 luma, as Pillow's "L" conversion.
LUMA = (0.299, 0.587, 0.114)


def rgb_copy(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A copy of RGBA ``x`` and a view of its RGB channels, to be changed in place."""
    out = x.clone()
    return out, out[:, :3]


def with_rgb(x: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
    """RGBA ``x`` with its RGB replaced by ``rgb (B, 3, H, W)``; alpha copied."""
    out = torch.empty_like(x)
    out[:, :3] = rgb
    out[:, 3] = x[:, 3]
    return out


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` → ``(B, 1, H, W)`` luma with Pillow's weights."""
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    return r * LUMA[0] + g * LUMA[1] + b * LUMA[2]


def affine_grid(inv: torch.Tensor, h: int, w: int, shift: torch.Tensor | None = None):
    """Sampling grid ``(B, H, W, 2)`` for ``grid_sample`` (``align_corners=False``).

    Args:
        inv: ``(B, 2, 2)`` maps *output* coordinates to *input* coordinates, both centred, x to
            the right and y downwards, in units of half the image side.
        shift: optional ``(B, 2)`` input offset (x, y) in the same units.
    Built elementwise (faster than ``F.affine_grid``'s batched 3-term matmul on CPU).
    """
    dev = inv.device
    inv = inv.to(torch.float32)
    xs = ((torch.arange(w, device=dev, dtype=torch.float32) + 0.5) * (2.0 / w) - 1.0)[None, None]
    ys = ((torch.arange(h, device=dev, dtype=torch.float32) + 0.5) * (2.0 / h) - 1.0)[None, :, None]
    grid = torch.empty(inv.shape[0], h, w, 2, device=dev)
    for i in range(2):
        a, b = inv[:, i, 0, None, None], inv[:, i, 1, None, None]
        g = ys * b + xs * a  # (B, H, W)
        if shift is not None:
            g.add_(shift[:, i, None, None].to(torch.float32))
        grid[..., i] = g
    return grid


def warp_affine(x: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    """Warp ``x (B, C, H, W)`` by per-sample 2×2 matrices ``inv (B, 2, 2)`` (see
    :func:`affine_grid`) about the image centre; bilinear, zeros (transparent) outside."""
    grid = affine_grid(inv, x.shape[-2], x.shape[-1])
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=False)


def shift_per_sample(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Move each image by integer ``(dy[i], dx[i])`` pixels (down, right); zeros fill in.

    Nearest-neighbour sampling at exact pixel centres, so values are copied, not interpolated.
    """
    b, _, h, w = x.shape
    eye = torch.eye(2, device=x.device).expand(b, 2, 2)
    shift = torch.stack([-dx * (2.0 / w), -dy * (2.0 / h)], 1)
    grid = affine_grid(eye, h, w, shift)
    return torch.nn.functional.grid_sample(x, grid, mode="nearest", padding_mode="zeros",
                                           align_corners=False)


def rotation_inverse(angle_deg: torch.Tensor) -> torch.Tensor:
    """``(B,)`` degrees → ``(B, 2, 2)`` inverse maps of a counter-clockwise rotation (as seen)."""
    t = angle_deg.to(torch.float64) * (math.pi / 180.0)
    c, s = torch.cos(t), torch.sin(t)
    # y points down, so a visual counter-clockwise turn reads as clockwise in (x, y).
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def alpha_bbox(alpha: torch.Tensor, threshold: float = 0.0):
    """Bounding box of ``alpha (B, H, W) > threshold``: (y0, y1, x0, x1) as ``(B,)`` int64,
    end-exclusive. Empty masks give the full canvas."""
    b, h, w = alpha.shape
    on = alpha > threshold
    rows, cols = on.any(2), on.any(1)
    ar_h = torch.arange(h, device=alpha.device)
    ar_w = torch.arange(w, device=alpha.device)
    big_h, big_w = torch.full_like(ar_h, h), torch.full_like(ar_w, w)
    y0 = torch.where(rows, ar_h, big_h).amin(1)
    y1 = torch.where(rows, ar_h + 1, 0).amax(1)
    x0 = torch.where(cols, ar_w, big_w).amin(1)
    x1 = torch.where(cols, ar_w + 1, 0).amax(1)
    empty = y1 == 0
    zero = torch.zeros_like(y0)
    return (torch.where(empty, zero, y0), torch.where(empty, h, y1),
            torch.where(empty, zero, x0), torch.where(empty, w, x1))


def gaussian_kernels(sigma: torch.Tensor, size: int) -> torch.Tensor:
    """``(B,)`` sigmas → ``(B, size)`` float32 normalised 1-D Gaussian kernels (odd ``size``)."""
    r = torch.arange(size, dtype=torch.float64, device=sigma.device) - (size - 1) / 2
    k = torch.exp(-0.5 * (r[None, :] / sigma.to(torch.float64)[:, None]) ** 2)
    return (k / k.sum(1, keepdim=True)).to(torch.float32)


def filter_matrices(kernels: torch.Tensor, n: int) -> torch.Tensor:
    """``(B, K)`` odd 1-D kernels → ``(B, n, n)`` matrices ``M`` with ``M @ v`` = the kernel
    correlated with ``v`` under reflect padding (the edge pixel is not repeated)."""
    b, k = kernels.shape
    r = k // 2
    if r >= n:
        raise ValueError(f"kernel of size {k} is too large for reflect padding of {n} pixels")
    dev = kernels.device
    src = torch.arange(n, device=dev)[:, None] + torch.arange(k, device=dev) - r
    src = torch.where(src < 0, -src, torch.where(src > n - 1, 2 * (n - 1) - src, src))
    flat = (torch.arange(n, device=dev)[:, None] * n + src).reshape(1, -1)
    vals = kernels[:, None, :].expand(b, n, k).reshape(b, -1)
    m = torch.zeros(b, n * n, dtype=kernels.dtype, device=dev)
    return m.scatter_add_(1, flat.expand(b, -1), vals).view(b, n, n)


def separable_filter(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Filter each image with its own separable kernel, reflect padding.

    Args:
        x: ``(B, C, H, W)``.
        kernels: ``(B, K)`` with odd ``K``; the same 1-D kernel along rows and columns.
    Returns:
        ``(B, C, H, W)``. Computed as two batched matrix products with banded matrices, which
        is several times faster on CPU than shifted sums and independent of the batch size.
    """
    b, c, h, w = x.shape
    mw = filter_matrices(kernels, w)
    mh = mw if h == w else filter_matrices(kernels, h)
    y = torch.bmm(x.reshape(b, c * h, w), mw.transpose(1, 2)).view(b, c, h, w)
    return torch.matmul(mh[:, None], y)
