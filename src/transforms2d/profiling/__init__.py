"""The invariance profile of any model: what is it invariant to?

:func:`profile` takes checkpoints, TorchScript / ``torch.export`` files, Python entry points,
``timm:<name>`` models or ``nn.Module``s (:mod:`.adapters`), picks the representation
(:mod:`.layers`), renders each batch of pairs once per domain (:mod:`.domains`) and transform
(with strength sweeps, :mod:`.sweeps`), and returns a tidy table with bootstrap intervals
(:mod:`.stats`) beside each model's untrained reference. ``ProfileResult.save`` writes JSON,
Parquet, a Markdown summary and figures.
"""

from .adapters import LoadedModel, load_model
from .api import COLUMNS, ProfileResult, profile
from .domains import DOMAINS, register_domain
from .sweeps import LEVELS, STRENGTHS

__all__ = ["COLUMNS", "DOMAINS", "LEVELS", "STRENGTHS", "LoadedModel", "ProfileResult",
           "load_model", "profile", "register_domain"]
