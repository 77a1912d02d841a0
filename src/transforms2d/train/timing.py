"""Device-side timing of training stages, and the optional ``torch.compile`` of a model.

:class:`StageTimer` times sections with CUDA events on a GPU — recorded on the stream, read
only when the totals are asked for, so timing adds no host sync to the loop — and with
``time.perf_counter`` on a CPU. The training loop times its optimiser steps apart from its
evaluation, so a throughput it reports is the training's alone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

COMPILE_BACKEND_ENV = "T2D_COMPILE_BACKEND"  # inductor by default; "eager" in tests (no codegen)


class StageTimer:
    """Seconds per named section on ``device``."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = torch.device(device).type == "cuda"
        self._seconds: dict[str, float] = {}
        self._events: list[tuple[str, torch.cuda.Event, torch.cuda.Event]] = []

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        if self.cuda:
            start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
            start.record()
            yield
            end.record()
            self._events.append((name, start, end))
            return
        t0 = time.perf_counter()
        yield
        self._add(name, time.perf_counter() - t0)

    def _add(self, name: str, s: float) -> None:
        self._seconds[name] = self._seconds.get(name, 0.0) + s

    def totals(self) -> dict[str, float]:
        """Seconds per section so far (waits for the recorded CUDA work to finish)."""
        for name, start, end in self._events:
            end.synchronize()
            self._add(name, start.elapsed_time(end) / 1000.0)
        self._events.clear()
        return dict(self._seconds)


def compiled(model: nn.Module) -> nn.Module:
    """``torch.compile(model)`` with a static batch shape and a compile cache shared by every
    process of this user (``$T2D_CACHE/inductor`` unless ``TORCHINDUCTOR_CACHE_DIR`` is set):
    runs of the same architecture and batch shape reuse the compiled graphs — in one process
    through Dynamo's cache (parameters are graph inputs), across processes through Inductor's
    FX-graph cache — so only the first run of a shape pays the compile."""
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        root = os.environ.get("T2D_CACHE") or Path.home() / ".cache" / "transforms2d"
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(Path(root) / "inductor")
    backend = os.environ.get(COMPILE_BACKEND_ENV, "inductor")
    return torch.compile(model, backend=backend, dynamic=False)
