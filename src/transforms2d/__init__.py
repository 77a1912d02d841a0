"""transforms2d: Transforms-2D datasets and the study of invariance in transfer learning.

>>> import transforms2d as t2d
>>> len(t2d.TRANSFORMS)
18
"""

from .data import Transforms2D
from .errors import ConfigError
from .transforms import TRANSFORMS

__version__ = "0.1.0"
__all__ = ["TRANSFORMS", "ConfigError", "Transforms2D", "__version__"]
