"""Deferred imports of heavy modules, so that light commands (``t2d --help``, ``t2d
transforms``) never pay for loading PyTorch.

``torch = lazy_import("torch")`` returns the module if it is already loaded; otherwise a module
object whose code runs on first attribute access (the standard library's
:class:`importlib.util.LazyLoader`). It is the real module from then on, so ``import torch``
elsewhere gets the same object and sees no difference. Only top-level packages can be
deferred this way (importing a submodule loads its parent), so modules that defer torch refer
to ``torch.nn.functional`` by attribute instead of importing it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """The top-level module ``name``, loaded now if it already is, else on first use."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
