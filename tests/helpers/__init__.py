"""Shared test helpers (builders and checks imported by test modules of several folders).

Fixtures live in the ``conftest.py`` files; plain functions and constants live here, imported
as ``from tests.helpers... import ...``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def one_line(excinfo, *parts: str) -> str:
    """The message of a raised error: one line, containing every one of ``parts``."""
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for p in parts:
        assert p in msg, (p, msg)
    return msg


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous count.

    Tiny batches gain nothing from threads, and 2 OpenMP threads on a busy 2-core machine
    (another job, or pytest-xdist workers) spin-wait: measured up to 100x slower. Result bytes
    also depend on the thread count (float reductions are split differently)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
