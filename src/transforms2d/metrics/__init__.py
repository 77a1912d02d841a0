"""Invariance and accuracy metrics (docs/protocol.md §5): pure functions over embeddings, and a thin
layer that renders a dataset and its twin, embeds them and calls those functions.

>>> import torch
>>> z = torch.randn(8, 4)
>>> l2_ratio(z, z, derangement(8))
0.0
"""

from .functional import (
    METRICS,
    PAIR_SCORES,
    RatioAccumulator,
    cos_ratio,
    cosine_similarity,
    derangement,
    dot_product,
    dot_ratio,
    invariance_ratio,
    l2_distance,
    l2_ratio,
    linear_cka,
    macro_accuracy,
    pair_scores,
)
from .measure import embed, invariance, invariance_many

__all__ = [
    "METRICS",
    "PAIR_SCORES",
    "RatioAccumulator",
    "cos_ratio",
    "cosine_similarity",
    "derangement",
    "dot_product",
    "dot_ratio",
    "embed",
    "invariance",
    "invariance_many",
    "invariance_ratio",
    "l2_distance",
    "l2_ratio",
    "linear_cka",
    "macro_accuracy",
    "pair_scores",
]
