"""``e2``: invariance to irrelevant features can harm transfer (docs/protocol.md §6 E2; claims
C6, C6α, C6β, §7). The grid is :mod:`.grid`, the aggregation :mod:`.report`."""

from ...engine import RunSpec, register_experiment, unique
from .grid import (
    ALPHAS,
    BETAS,
    SIZES,
    SOURCES,
    TASK_ID,
    TASKS,
    VARIANTS,
    Cell,
    E2Sizes,
    cells,
    draw,
    sources,
)
from .report import aggregate, collect


@register_experiment("e2", aggregate, aliases=("ife",), paper=True, sizes=SIZES)
def e2(sizes: E2Sizes, seeds: tuple[int, ...]) -> list[RunSpec]:
    """E2 irrelevant features: C/C, C+O/C, C+O/O, O/O models probed on each other's tasks."""
    return unique(c.spec for source in sources() for c in cells(sizes, seeds, source))


__all__ = ["ALPHAS", "BETAS", "SIZES", "SOURCES", "TASKS", "TASK_ID", "VARIANTS", "Cell",
           "E2Sizes",
           "aggregate", "cells", "collect", "draw", "e2", "sources"]
