"""Counter-based randomness: every random number is a pure function of its coordinates.

Convention
----------
A draw is addressed by ``(key, index, slot)``:

- ``key``   a 32-bit stream key, derived with :func:`derive_key` from named parts such as
  ``(seed, "split", "test", "background")`` or ``(seed, "transform", transform_seed, epoch,
  position, name)``;
- ``index`` the sample's index in its split (a tensor, one entry per sample);
- ``slot``  the number of the value inside that sample's draw (0, 1, 2, ...).

The value is ``fmix32(fmix32(key ^ fmix32(index)) + slot * GOLDEN)``: integer arithmetic only,
so it is bit-identical on every device, for any batch size, batch order or worker count.
Nothing here touches global RNG state. :func:`check_seed` is the only code that interprets
user seeds.

Large per-pixel draws (noise, elastic fields, random backgrounds) read a fixed table of
pre-drawn values along a per-sample random walk (hashed offset, hashed odd stride): the same
guarantees at a fraction of the cost of hashing every pixel.
"""

from __future__ import annotations

import functools
import zlib

from ._lazy import lazy_import

torch = lazy_import("torch")  # deferred: `t2d transforms` lists the registry without it

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9
TABLE_BITS = 16  # 2**16 pre-drawn values per bulk table: cache-resident
CHUNK = 1 << 15  # values per random walk through the table


def check_seed(seed: int) -> int:
    """Validate a user seed and return it as a non-negative Python int < 2**63."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return seed % (1 << 63)


def _fmix32_int(h: int) -> int:
    """MurmurHash3's 32-bit finaliser on a Python int (bijective on [0, 2**32))."""
    h &= MASK32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    h ^= h >> 16
    return h


def fmix32(h: torch.Tensor) -> torch.Tensor:
    """MurmurHash3's 32-bit finaliser, elementwise on an int64 tensor holding values < 2**32."""
    h = h ^ (h >> 16)
    h = (h * 0x85EBCA6B) & MASK32
    h = h ^ (h >> 13)
    h = (h * 0xC2B2AE35) & MASK32
    return h ^ (h >> 16)


def derive_key(*parts: int | str) -> int:
    """Hash named parts (ints or strings) into a 32-bit stream key, independent per part list."""
    h = 0x2545F491
    for part in parts:
        if isinstance(part, str):
            v = zlib.crc32(part.encode())
        else:
            v = int(part) & ((1 << 64) - 1)
            v = _fmix32_int(v) ^ _fmix32_int((v >> 32) + 0x68E31DA4)
        h = _fmix32_int(h ^ _fmix32_int(v + GOLDEN))
    return h


class Draws:
    """Random draws for a batch of samples, addressed by (key, sample index, slot).

    Args:
        key: 32-bit stream key (see :func:`derive_key`).
        index: ``(B,)`` int64 sample indices.

    Each method call takes the next ``k`` slots, so two calls return independent values; the
    order of calls inside a sampler is part of the sampler's definition.
    """

    def __init__(self, key: int, index: torch.Tensor) -> None:
        self.index = index
        self._base = fmix32((fmix32(index.to(torch.int64) & MASK32) ^ key) & MASK32)
        self._slot = 0

    def child(self, name: str) -> Draws:
        """An independent stream for the same samples (e.g. one per transform)."""
        out = Draws.__new__(Draws)
        out.index = self.index
        out._base = fmix32(self._base ^ derive_key(name))
        out._slot = 0
        return out

    def subset(self, positions: torch.Tensor) -> Draws:
        """The same stream restricted to ``positions`` of the batch (slots continue)."""
        out = Draws.__new__(Draws)
        out.index = self.index[positions]
        out._base = self._base[positions]
        out._slot = self._slot
        return out

    def bits(self, k: int = 1) -> torch.Tensor:
        """``(B, k)`` int64 uniform on [0, 2**32)."""
        slots = torch.arange(self._slot, self._slot + k, device=self._base.device) * GOLDEN
        self._slot += k
        return fmix32((self._base[:, None] + slots) & MASK32)

    def uniform(self, k: int = 1, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        """``(B, k)`` float32 uniform on [low, high), 24-bit resolution."""
        u = (self.bits(k) >> 8).to(torch.float64) * (1.0 / (1 << 24))
        return (low + (high - low) * u).to(torch.float32)

    def bernoulli(self, p: float) -> torch.Tensor:
        """``(B,)`` bool, True with probability ``p``."""
        return (self.bits(1)[:, 0] >> 8) < int(round(p * (1 << 24)))

    def integers(self, high: torch.Tensor | int) -> torch.Tensor:
        """``(B,)`` int64 uniform on [0, high) (``high`` scalar or per sample, ≥ 1)."""
        return (self.bits(1)[:, 0] * high) >> 32

    def table(self, kind: str, numel: int) -> torch.Tensor:
        """``(B, numel)`` values of a bulk table: ``"normal"`` float32 N(0, 1), ``"uniform"``
        float32 U[0, 1), or ``"byte"`` uint8 U{0..255}; i.i.d. within a sample."""
        tab = bulk_table(kind, str(self._base.device))
        chunk = min(numel, CHUNK)  # each chunk of a sample walks with its own offset and stride
        n_chunks = -(-numel // chunk)
        b = (self.bits(2 * n_chunks) & ((1 << TABLE_BITS) - 1)).to(torch.int32)
        offset, stride = b[:, 0::2, None], b[:, 1::2, None] | 1  # odd: distinct entries
        j = torch.arange(chunk, device=tab.device, dtype=torch.int32)
        # int32 is exact: chunk * stride < 2**15 * 2**16 = 2**31.
        pos = (j * stride).add_(offset).bitwise_and_((1 << TABLE_BITS) - 1)
        out = tab.index_select(0, pos.view(-1)).view(-1, n_chunks * chunk)
        return out if n_chunks * chunk == numel else out[:, :numel]


@functools.cache
def bulk_table(kind: str, device: str) -> torch.Tensor:
    """A fixed table of 2**16 pre-drawn values, identical on every machine (built on CPU)."""
    g = torch.Generator().manual_seed(20240601)
    n = 1 << TABLE_BITS
    if kind == "normal":
        # Quantiles of N(0,1) at evenly spaced probabilities, shuffled: exact distribution shape.
        p = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        vals = (torch.special.ndtri(p)).to(torch.float32)
        vals = vals[torch.randperm(n, generator=g)]
    elif kind == "uniform":
        vals = torch.rand(n, generator=g, dtype=torch.float64).to(torch.float32)
    elif kind == "byte":
        vals = torch.randint(0, 256, (n,), generator=g, dtype=torch.uint8)
    else:
        raise ValueError(f"unknown table kind {kind!r}")
    return vals.to(device)
