"""Keep freed tensor memory in glibc's heap instead of returning it to the OS.

glibc serves allocations above a dynamic threshold (up to 32 MB) with fresh ``mmap`` pages and
unmaps them on free, so every new batch-sized temporary page-faults on first touch. On a small
CPU this costs more than the arithmetic (measured: rendering a batch of 1024 at 32 px took 2.5×
longer). PyTorch's CPU tuning guide recommends jemalloc/tcmalloc for the same reason; this is
the no-dependency version. Set ``T2D_MALLOC_TUNING=0`` to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20  # allocations below this come from the reusable heap
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GiB of freed heap for reuse


@functools.cache
def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if applied."""
    if os.environ.get("T2D_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return ok and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
