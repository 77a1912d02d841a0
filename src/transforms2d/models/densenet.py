"""CIFAR DenseNet-BC: bottleneck dense layers, compression-0.5 transitions, 3×3 stem.

With blocks [6,12,24,16] and growth rate 12 this is the small CIFAR network the paper calls
"densenet121" (docs/protocol.md §3). At 32 px the four blocks run at 32, 16, 8 and 4 px.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..validation import check_int
from .base import T2DModel, global_pool, init_cnn_
from .registry import register_model


class DenseLayer(nn.Module):
    """BN-ReLU-conv1×1 (4·growth), BN-ReLU-conv3×3 (growth), concatenated to the input.

    Shapes: ``(B, cin, H, W) -> (B, cin + growth, H, W)``.
    """

    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([x, out], dim=1)


class Transition(nn.Sequential):
    """BN-ReLU-conv1×1 then 2×2 average pool: ``(B, cin, H, W) -> (B, cout, H/2, W/2)``."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
                         nn.Conv2d(cin, cout, 1, bias=False), nn.AvgPool2d(2))


class DenseNet(T2DModel):
    """CIFAR DenseNet-BC.

    Args:
        blocks: dense layers per block.
        growth: channels each dense layer adds; the stem outputs ``2 * growth``.
        compression: transitions keep ``floor(compression * channels)``.
        stem_pool: a 2×2 max-pool after the stem conv, so the blocks run at half resolution
            (the CPU-sized ``densenet_s``). The paper's CIFAR DenseNet has none.

    Shapes: ``features: (B, in_chans, H, W) -> (B, num_features)`` after a final BN-ReLU and
    global average pool.
    """

    def __init__(self, blocks: Sequence[int], growth: int = 12, compression: float = 0.5,
                 num_classes: int = 10, in_chans: int = 3, image_size: int = DEFAULT_IMAGE_SIZE,
                 stem_pool: bool = False) -> None:
        super().__init__(image_size)
        check_int("in_chans", in_chans, 1)
        c = 2 * check_int("growth", growth, 1)
        layers: list[nn.Module] = [nn.Conv2d(in_chans, c, 3, padding=1, bias=False)]
        if stem_pool:
            layers.append(nn.MaxPool2d(2))
        for i, n in enumerate(blocks):
            for _ in range(n):
                layers.append(DenseLayer(c, growth))
                c += growth
            if i < len(blocks) - 1:
                cout = int(math.floor(c * compression))
                layers.append(Transition(c, cout))
                c = cout
        layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.min_size = 2 ** (max(len(blocks) - 1, 0) + bool(stem_pool))
        self.num_features = c
        init_cnn_(self)
        self.reset_head(num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_features)``."""
        self.check_size(x)
        return global_pool(self.body(x))


@register_model("densenet", paper=True)
def densenet_cifar(num_classes: int = 10, **kwargs) -> DenseNet:
    """CIFAR DenseNet-BC ("densenet121"): blocks [6,12,24,16], growth 12, 384-d features."""
    cfg = {"blocks": (6, 12, 24, 16), "growth": 12}
    return DenseNet(num_classes=num_classes, **{**cfg, **kwargs})


@register_model("densenet")
def densenet_s(num_classes: int = 10, **kwargs) -> DenseNet:
    """Small CPU DenseNet-BC: stem + max-pool, blocks [2,2,4,2], growth 8, 40-d features."""
    cfg = {"blocks": (2, 2, 4, 2), "growth": 8, "stem_pool": True}
    return DenseNet(num_classes=num_classes, **{**cfg, **kwargs})
