"""Strength sweeps: invariance as a function of a transform's magnitude.

Each entry maps a level ``L`` in (0, 1] to hyper-parameter overrides, ``L = 1`` being the
paper's parameters; the magnitude (e.g. the largest rotation angle) is what the x-axis of a
strength curve shows. Transforms without a magnitude (flips, grayscale, invert, translate,
whose shift is set by the free room around the object) have no sweep. Both views of an
invariance pair draw their parameters from the level's distribution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError

LEVELS = (0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class Strength:
    """``overrides(L) -> {param: value}``; ``magnitude(L)`` and ``axis`` label the x-axis."""

    axis: str
    overrides: Callable[[float], dict]
    magnitude: Callable[[float], float]


def _rng(lo: float, hi: float) -> tuple[float, float]:
    return (round(lo, 6), round(hi, 6))


STRENGTHS: dict[str, Strength] = {
    "rotate": Strength("largest angle (deg)", lambda L: {"angle": _rng(0, 360 * L)},
                       lambda L: 360 * L),
    "shear": Strength("largest |angle| (deg)", lambda L: {"angle": _rng(-50 * L, 50 * L)},
                      lambda L: 50 * L),
    "scale": Strength("smallest factor", lambda L: {"factor": _rng(1 - 0.6 * L, 1.0)},
                      lambda L: 1 - 0.6 * L),
    "hue": Strength("largest |shift|", lambda L: {"shift": _rng(-0.5 * L, 0.5 * L)},
                    lambda L: 0.5 * L),
    "brightness": Strength("largest |factor - 1|", lambda L: {"factor": _rng(1 - L, 1 + L)},
                           lambda L: L),
    "contrast": Strength("largest |factor - 1|", lambda L: {"factor": _rng(1 - L, 1 + L)},
                         lambda L: L),
    "blur": Strength("largest sigma (px at 32)", lambda L: {"sigma": _rng(0.1, 0.1 + 1.4 * L)},
                     lambda L: 0.1 + 1.4 * L),
    "noise": Strength("noise std", lambda L: {"std": round(L, 6)}, lambda L: L),
    "pixelate": Strength("1 - ratio", lambda L: {"ratio": round(1 - 0.7 * L, 6)},
                         lambda L: 0.7 * L),
    "elastic": Strength("alpha", lambda L: {"alpha": round(150 * L, 6)}, lambda L: 150 * L),
    "erasing": Strength("square side (px at 32)", lambda L: {"side": max(1, round(14 * L))},
                        lambda L: max(1, round(14 * L))),
    "sharpen": Strength("factor", lambda L: {"factor": round(1 + 6 * L, 6)},
                        lambda L: 1 + 6 * L),
    "posterize": Strength("bits removed", lambda L: {"bits": 8 - round(7 * L)},
                          lambda L: round(7 * L)),
}


def check_levels(levels) -> tuple[float, ...]:
    """Levels in (0, 1], sorted, at least 1 (an int N gives N evenly spaced levels)."""
    if isinstance(levels, int) and not isinstance(levels, bool):
        if levels < 1:
            raise ConfigError(f"--levels must be >= 1. Got {levels}.")
        return tuple(round((k + 1) / levels, 6) for k in range(levels))
    out = tuple(sorted(float(v) for v in levels))
    if not out or not all(0 < v <= 1 for v in out):
        raise ConfigError(f"Strength levels must lie in (0, 1]. Got {levels!r}.")
    return out


def sweep_tasks(transforms, levels) -> list[tuple[str, float | None, dict]]:
    """``(transform, level, overrides)`` for every transform (level ``None``: the paper's
    parameters) and, with ``levels``, every level of each transform that has a magnitude."""
    tasks = [(t, None, {}) for t in transforms]
    if levels:
        tasks += [(t, L, STRENGTHS[t].overrides(L)) for t in transforms if t in STRENGTHS
                  for L in levels]
    return tasks
