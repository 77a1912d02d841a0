"""Geometric transformations of the RGBA object canvas (docs/protocol.md §2, #1–6).

All move alpha with colour. Warps are bilinear about the canvas centre; pixels that come from
outside the canvas are transparent. Angles are in degrees, counter-clockwise as seen.
"""

from __future__ import annotations

import math

from .._lazy import lazy_import
from ..rng import Draws
from .ops import alpha_bbox, rotation_inverse, shift_per_sample, warp_affine
from .registry import MAX_HYPER, register, sample_nothing

torch = lazy_import("torch")


def sample_scale(d: Draws, size: int, factor=(0.4, 1.0)) -> dict:
    """Returns ``factor (n,)`` ~ U[factor]: multiplies the object's size."""
    return {"factor": d.uniform(1, *factor)[:, 0]}


@register("scale", "geometric", sample_scale, "scale by U[0.4, 1.0] about the centre",
          changes_alpha=True, limits={"factor": (0, MAX_HYPER, True)}, factor=(0.4, 1.0))
def apply_scale(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Scale each canvas by ``factor (B,)`` about its centre (> 1 enlarges).

    Factor 1 is the identity; 0.5 shrinks an opaque 8×8 canvas to a centred 4×4 square:

    >>> x = torch.rand(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> torch.allclose(apply_scale(x, torch.ones(2)), x, atol=1e-6)
    True
    >>> alpha = apply_scale(torch.ones(1, 4, 8, 8), torch.tensor([0.5]))[0, 3]
    >>> alpha.sum().item(), alpha[2:6, 2:6].min().item()
    (16.0, 1.0)
    """
    inv = torch.diag_embed((1.0 / factor.to(torch.float64))[:, None].expand(-1, 2))
    return warp_affine(x, inv)


def sample_translate(d: Draws, size: int) -> dict:
    """Returns ``position (n, 2)`` ~ U[0, 1)²: where the object box goes, as a fraction of the
    free room (rows, columns)."""
    return {"position": d.uniform(2)}


@register("translate", "geometric", sample_translate,
          "move the object box to a uniform integer position inside the canvas",
          changes_alpha=True)
def apply_translate(x: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
    """Move each object's bounding box (alpha > 0) to integer position
    ``floor(position * (free room + 1))``; the box stays fully inside the canvas.

    A one-pixel object in the corner of a 4×4 canvas goes to the far corner or stays:

    >>> dot = torch.zeros(1, 4, 4, 4); dot[0, :, 0, 0] = 1.0
    >>> apply_translate(dot, torch.tensor([[0.99, 0.99]]))[0, 3].nonzero().tolist()
    [[3, 3]]
    >>> apply_translate(dot, torch.tensor([[0.0, 0.0]]))[0, 3].nonzero().tolist()
    [[0, 0]]
    """
    h, w = x.shape[-2:]
    y0, y1, x0, x1 = alpha_bbox(x[:, 3])
    room_y, room_x = h - (y1 - y0), w - (x1 - x0)
    new_y = (position[:, 0].double() * (room_y + 1)).floor().long()
    new_x = (position[:, 1].double() * (room_x + 1)).floor().long()
    return shift_per_sample(x, new_y - y0, new_x - x0)


@register("v_flip", "geometric", sample_nothing, "vertical flip, p=0.5", True, p=0.5)
def apply_v_flip(x: torch.Tensor) -> torch.Tensor:
    """Flip upside down: the top row becomes the bottom row.

    >>> x = torch.arange(4.0).view(1, 1, 2, 2)
    >>> apply_v_flip(x).flatten().tolist()
    [2.0, 3.0, 0.0, 1.0]
    """
    return x.flip(-2)


@register("h_flip", "geometric", sample_nothing, "horizontal flip, p=0.5", True, p=0.5)
def apply_h_flip(x: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: the first column becomes the last.

    >>> x = torch.arange(4.0).view(1, 1, 2, 2)
    >>> apply_h_flip(x).flatten().tolist()
    [1.0, 0.0, 3.0, 2.0]
    """
    return x.flip(-1)


def sample_rotate(d: Draws, size: int, angle=(0.0, 360.0)) -> dict:
    """Returns ``angle (n,)`` degrees ~ U[angle]."""
    return {"angle": d.uniform(1, *angle)[:, 0]}


@register("rotate", "geometric", sample_rotate, "rotate by U[0, 360) degrees",
          changes_alpha=True, angle=(0.0, 360.0))
def apply_rotate(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate each canvas counter-clockwise by ``angle (B,)`` degrees about its centre.

    A quarter turn moves every pixel exactly as ``torch.rot90`` (counter-clockwise as seen):

    >>> x = torch.rand(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> out = apply_rotate(x, torch.tensor([90.0, -90.0]))
    >>> torch.allclose(out[0], torch.rot90(x[0], 1, (-2, -1)), atol=1e-6)
    True
    >>> torch.allclose(out[1], torch.rot90(x[1], -1, (-2, -1)), atol=1e-6)
    True
    """
    return warp_affine(x, rotation_inverse(angle))


def sample_shear(d: Draws, size: int, angle=(-50.0, 50.0)) -> dict:
    """Returns ``angle (n, 2)`` degrees ~ U[angle]: x and y shear angles."""
    return {"angle": d.uniform(2, *angle)}


@register("shear", "geometric", sample_shear, "shear with x, y angles ~ U[-50, 50] degrees",
          changes_alpha=True, angle=(-50.0, 50.0))
def apply_shear(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Shear by ``angle (B, 2)`` degrees: forward map [[1, tx], [0, 1]] @ [[1, 0], [ty, 1]]
    with ``t = tan(angle)`` (determinant 1, so the object keeps its area).

    Zero angles are the identity; a shear of a centred 4×4 square keeps its 16 pixels of alpha
    (up to resampling) but moves some of them out of the square:

    >>> x = torch.zeros(1, 4, 16, 16); x[..., 6:10, 6:10] = 1.0
    >>> torch.equal(apply_shear(x, torch.zeros(1, 2)), x)
    True
    >>> alpha = apply_shear(x, torch.tensor([[20.0, 10.0]]))[0, 3]
    >>> round(alpha.sum().item(), 1), alpha[6:10, 6:10].sum().item() < 16
    (16.0, True)
    """
    t = torch.tan(angle.to(torch.float64) * (math.pi / 180.0))
    tx, ty = t[:, 0], t[:, 1]
    one = torch.ones_like(tx)
    inv = torch.stack([torch.stack([one, -tx], -1), torch.stack([-ty, 1 + tx * ty], -1)], -2)
    return warp_affine(x, inv)
