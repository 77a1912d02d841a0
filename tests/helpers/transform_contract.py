"""The per-transform contract battery (in the style of kornia's ``CommonTests``).

Each check is a plain function of a :class:`~transforms2d.transforms.TransformInfo`, so the
battery runs on the registry (tests/transforms/test_contract.py) and on a transform registered
at run time (tests/test_registration.py) alike. What differs between transforms — which
parameters make it the identity, and whether and in which precision autograd can check it — is
a :class:`Contract`; :data:`CONTRACTS` holds the registry's, each exception with its reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from transforms2d.rng import Draws
from transforms2d.transforms import TransformInfo, apply_params, sample_params
from transforms2d.transforms.ops import alpha_bbox

Params = Callable[[torch.Tensor], dict[str, Any]]


@dataclass(frozen=True)
class Contract:
    """What one transform promises beyond the checks every transform passes.

    Attributes:
        identity: ``x -> params`` (without ``index``) for which applying is the identity on
            ``x`` (8-bit-valued RGBA canvases), or ``None`` where no parameters do that.
        atol: tolerance of the identity (0: bit-exact).
        no_identity: why ``identity`` is ``None``.
        grad: dtype in which ``torch.autograd.gradcheck`` checks the applier with respect to
            its input (``torch.float64``; ``torch.float32`` with loose tolerances where the
            applier only runs in float32), or ``None``: not differentiable.
        why: why ``grad`` is not ``torch.float64``.
    """

    identity: Params | None = None
    atol: float = 0.0
    no_identity: str = ""
    grad: torch.dtype | None = torch.float64
    why: str = ""


def _full(value: float) -> Params:
    return lambda x: {"factor": torch.full((x.shape[0],), value)}


def _translate_in_place(x: torch.Tensor) -> dict[str, Any]:
    """The fraction of the free room that puts each box where it already is."""
    h, w = x.shape[-2:]
    y0, y1, x0, x1 = alpha_bbox(x[:, 3])
    room_y, room_x = h - (y1 - y0), w - (x1 - x0)
    pos = torch.stack([(y0 + 0.5) / (room_y + 1), (x0 + 0.5) / (room_x + 1)], 1)
    return {"position": pos.double()}


FLOAT32_ONLY = ("the applier builds float32 sampling grids / filter kernels, so a float64 input "
                "is refused: gradcheck in float32 with loose tolerances")
CONTRACTS: dict[str, Contract] = {
    "none": Contract(lambda x: {}),
    # geometric
    "scale": Contract(_full(1.0), atol=1e-5, grad=torch.float32, why=FLOAT32_ONLY),
    "translate": Contract(
        _translate_in_place, grad=None,
        why="the integer shift is a function of the alpha bounding box (alpha > 0), a step "
            "function of the input; the float32-only grid refuses float64 too"),
    "v_flip": Contract(no_identity="a flip has no parameter: applying it is never the identity "
                                   "(only p=0, not applying it, is)"),
    "h_flip": Contract(no_identity="a flip has no parameter: applying it is never the identity "
                                   "(only p=0, not applying it, is)"),
    "rotate": Contract(lambda x: {"angle": torch.zeros(x.shape[0])}, atol=1e-5,
                       grad=torch.float32, why=FLOAT32_ONLY),
    "shear": Contract(lambda x: {"angle": torch.zeros(x.shape[0], 2)}, atol=1e-5,
                      grad=torch.float32, why=FLOAT32_ONLY),
    # photometric
    "hue": Contract(lambda x: {"shift": torch.zeros(x.shape[0])}, atol=1e-5, grad=None,
                    why="the applier writes through torch.sub(..., out=...), which autograd "
                        "refuses (the HSV formula itself is differentiable almost everywhere)"),
    "brightness": Contract(_full(1.0)),
    "grayscale": Contract(no_identity="no parameter: luma in all three channels is the identity "
                                      "only on grey images"),
    "posterize": Contract(lambda x: {"bits": 8}, atol=1e-6, grad=None,
                          why="floor to 2**bits levels: zero gradient almost everywhere, jumps "
                              "between levels"),
    "invert": Contract(no_identity="no parameter: 1 - RGB is never the identity"),
    "sharpen": Contract(lambda x: {"factor": 1.0}, atol=1e-6, grad=None,
                        why="the smoothed image is rounded to 8 bits as in Pillow (a step "
                            "function of the input); float32-only kernels too"),
    # corruption
    "blur": Contract(no_identity="a Gaussian of any sigma > 0 mixes neighbours (sigma = 0 "
                                 "divides by zero; a tiny sigma is the identity only through "
                                 "float underflow)", grad=torch.float32, why=FLOAT32_ONLY),
    "noise": Contract(lambda x: {"noise": torch.zeros(x.shape[0], 3, *x.shape[-2:])}),
    "pixelate": Contract(lambda x: {"small": x.shape[-1]},
                         why="box-average then nearest upsampling at a fixed size: linear in "
                             "the input (nearest is not differentiable in position, which is "
                             "no input), so float64 gradcheck applies"),
    "elastic": Contract(lambda x: {"field": torch.zeros(x.shape[0], 2, *x.shape[-2:]),
                                   "alpha": 150.0, "sigma": 5.0}, atol=1e-5,
                        grad=torch.float32, why=FLOAT32_ONLY),
    "erasing": Contract(lambda x: {"corner": torch.zeros(x.shape[0], 2, dtype=torch.long),
                                   "side": 0}),
    "contrast": Contract(_full(1.0), atol=1e-6),
}


# -- inputs and parameters -------------------------------------------------------------------
def canvas(b: int = 8, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Random 8-bit colours on RGBA canvases with a 22×22 opaque object box at offset 5 (as
    rendered: objects are uint8 images scaled to [0, 1])."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (b, 4, size, size), generator=g).float().mul_(1.0 / 255.0)
    x[:, 3] = 0.0
    lo, hi = round(5 * size / 32), round(27 * size / 32)
    x[:, 3, lo:hi, lo:hi] = 1.0
    return x


def draw(info: TransformInfo, b: int, size: int = 32, key: int = 7, **over) -> dict[str, Any]:
    """Parameters of ``info`` for samples ``0..b-1`` (``over``: hyper-parameter overrides)."""
    return sample_params(info, Draws(key, torch.arange(b)), size, over)


def always(info: TransformInfo) -> dict[str, Any]:
    """Overrides that apply ``info`` to every sample (``p=1`` where it has a ``p``)."""
    return {"p": 1.0} if "p" in info.defaults else {}


def slice_params(params: Mapping[str, Any], i: int, b: int) -> dict[str, Any]:
    """The stored parameters of sample ``i`` of a batch of ``b``, for a batch of one."""
    index = params.get("index")
    n = b if index is None else index.numel()
    if index is None:
        rows, new_index = slice(i, i + 1), None
    else:
        hit = (index == i).nonzero().flatten()
        j = int(hit[0]) if hit.numel() else None
        rows = slice(j, j + 1) if j is not None else slice(0, 0)
        new_index = torch.zeros(1 if j is not None else 0, dtype=index.dtype)
    out: dict[str, Any] = {"index": new_index}
    for k, v in params.items():
        if k == "index":
            continue
        per_sample = torch.is_tensor(v) and v.ndim >= 1 and v.shape[0] == n
        out[k] = v[rows] if per_sample else v
    return out


# -- the checks ------------------------------------------------------------------------------
def check_replay(info: TransformInfo) -> None:
    """The same stored parameters give the same output bits, and the input is not changed."""
    x = canvas(16)
    before = x.clone()
    for over in ({}, always(info)):
        params = draw(info, 16, **over)
        y1, y2 = apply_params(info, x, params), apply_params(info, x, params)
        assert torch.equal(y1, y2), f"{info.name}: replaying stored parameters changed the output"
        assert torch.equal(x, before), f"{info.name}: the input was modified in place"


def check_batch_independence(info: TransformInfo) -> None:
    """``apply(x)[i] == apply(x[i:i+1])[0]`` with the parameters of sample ``i`` sliced out."""
    b = 9
    x = canvas(b, seed=1)
    for over in ({}, always(info)):
        params = sample_params(info, Draws(3, torch.arange(b)), 32, over)
        full = apply_params(info, x, params)
        for i in range(b):
            one = apply_params(info, x[i:i + 1], slice_params(params, i, b))
            assert torch.equal(one[0], full[i]), f"{info.name}: sample {i} depends on its batch"


def check_empty_batch(info: TransformInfo) -> None:
    """A batch of 0 gives a batch of 0 of the same shape and dtype."""
    for over in ({}, always(info)):
        y = apply_params(info, canvas(0), draw(info, 0, **over))
        assert y.shape == (0, 4, 32, 32) and y.dtype == torch.float32, (info.name, y.shape)


def check_dtype_and_shape(info: TransformInfo) -> None:
    """float32 in, float32 of the same shape out (also at another size)."""
    for size in (32, 17):
        x = canvas(4, size)
        y = apply_params(info, x, draw(info, 4, size, **always(info)))
        assert y.dtype == torch.float32 and y.shape == x.shape, (info.name, size, y.dtype)


def check_range(info: TransformInfo) -> None:
    """Inputs in [0, 1] give finite outputs in [0, 1] (several draws)."""
    for key in range(3):
        x = canvas(16, seed=key)
        y = apply_params(info, x, draw(info, 16, key=key, **always(info)))
        assert torch.isfinite(y).all(), info.name
        assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0, (info.name, key)


def check_p_zero_is_identity(info: TransformInfo) -> None:
    """With a probability ``p``, ``p=0`` applies to no sample: the output is the input."""
    if "p" not in info.defaults:
        return
    x = canvas(8)
    params = draw(info, 8, p=0.0)
    assert params["index"].numel() == 0
    assert torch.equal(apply_params(info, x, params), x), info.name


def check_identity(info: TransformInfo, contract: Contract) -> None:
    """The identity parameters of ``contract`` give back the input (within ``atol``)."""
    assert contract.identity is not None, f"{info.name}: {contract.no_identity}"
    for size in (32, 16):
        x = canvas(6, size, seed=2)
        y = apply_params(info, x, {**contract.identity(x), "index": None})
        if contract.atol:
            torch.testing.assert_close(y, x, atol=contract.atol, rtol=0)
        else:
            assert torch.equal(y, x), f"{info.name}: identity parameters changed the input"


def check_gradcheck(info: TransformInfo, contract: Contract) -> None:
    """``torch.autograd.gradcheck`` of the applier with respect to its input (2 samples, 8 px,
    values inside (0.1, 0.9) so that clipping and alpha thresholds are not at a kink)."""
    assert contract.grad is not None, f"{info.name}: {contract.why}"
    g = torch.Generator().manual_seed(0)
    x = (0.1 + 0.8 * torch.rand(2, 4, 8, 8, generator=g)).to(contract.grad).requires_grad_()
    params = draw(info, 2, 8, **always(info))
    if contract.grad == torch.float64:
        assert torch.autograd.gradcheck(lambda t: apply_params(info, t, params), (x,))
        return
    with warnings.catch_warnings():  # "not a double precision floating point" input
        warnings.simplefilter("ignore", UserWarning)
        assert torch.autograd.gradcheck(lambda t: apply_params(info, t, params), (x,),
                                        eps=1e-3, atol=1e-2, rtol=1e-2)


def run_battery(info: TransformInfo, contract: Contract) -> None:
    """Every check of this module that ``contract`` allows."""
    check_replay(info)
    check_batch_independence(info)
    check_empty_batch(info)
    check_dtype_and_shape(info)
    check_range(info)
    check_p_zero_is_identity(info)
    if contract.identity is not None:
        check_identity(info, contract)
    if contract.grad is not None:
        check_gradcheck(info, contract)
