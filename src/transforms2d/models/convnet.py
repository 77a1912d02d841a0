"""Plain CNNs for CPU profiles: conv-BN-ReLU blocks, 2×2 max-pool between, global average pool.

At 32 px with four blocks the blocks run at 32, 16, 8 and 4 px.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import T2DModel, check_positive_int, global_pool, init_cnn_
from .registry import register_model


class ConvNet(T2DModel):
    """``len(widths)`` blocks of 3×3 conv (no bias), BN, ReLU; a 2×2 max-pool between blocks.

    Shapes: ``features: (B, in_chans, H, W) -> (B, widths[-1])``.
    """

    def __init__(self, widths: Sequence[int], num_classes: int = 10, in_chans: int = 3,
                 image_size: int = 32) -> None:
        super().__init__(image_size)
        cin, layers = check_positive_int("in_chans", in_chans), []
        for i, w in enumerate(widths):
            if i > 0:
                layers.append(nn.MaxPool2d(2))
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w),
                       nn.ReLU(inplace=True)]
            cin = w
        self.body = nn.Sequential(*layers)
        self.num_features = cin
        init_cnn_(self)
        self.reset_head(num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_features)``."""
        return global_pool(self.body(x))


@register_model("convnet")
def convnet_xs(num_classes: int = 10, **kwargs) -> ConvNet:
    """Tiny CNN: 4 conv-BN-ReLU blocks, widths 8-16-32-64, max-pool between, 64-d features."""
    return ConvNet((8, 16, 32, 64), num_classes=num_classes, **kwargs)


@register_model("convnet")
def convnet_s(num_classes: int = 10, **kwargs) -> ConvNet:
    """Small CNN: 4 conv-BN-ReLU blocks, widths 16-32-64-128, max-pool between, 128-d."""
    return ConvNet((16, 32, 64, 128), num_classes=num_classes, **kwargs)
