"""transforms2d: Transforms-2D datasets and the study of invariance in transfer learning.

The top-level names load on first use (``t2d --help`` never imports torch):

>>> import transforms2d as t2d
>>> len(t2d.TRANSFORMS)
18
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ConfigError

__version__ = "0.1.0"
#: The paper's image side in pixels: the default of every dataset, model and command.
DEFAULT_IMAGE_SIZE = 32
# name -> module that defines it
_LAZY = {"Transforms2D": ".data", "TRANSFORMS": ".transforms", "profile": ".profiling",
         "load_results": ".reporting.results"}
__all__ = ["DEFAULT_IMAGE_SIZE", "TRANSFORMS", "ConfigError", "Transforms2D", "__version__",
           "load_results", "profile"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
