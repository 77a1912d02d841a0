"""CIFAR-style ResNets: 3×3 stride-1 stem, no max-pool, four stages, global average pool.

At 32 px the stages run at 32, 16, 8 and 4 px.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..validation import check_int
from .base import T2DModel, global_pool, init_cnn_
from .registry import register_model


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout)


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    """Identity, or a 1×1 conv + BN projection when the shape changes."""
    if stride == 1 and cin == cout:
        return nn.Identity()
    return nn.Sequential(*_conv_bn(cin, cout, 1, stride))


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers and a residual: ``(B, cin, H, W) -> (B, width, H/s, W/s)``."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(cin, width, 3, stride)
        self.conv2, self.bn2 = _conv_bn(width, width, 3)
        self.shortcut = _shortcut(cin, width, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (strided), 1×1 expand ×4: ``(B, cin, H, W) -> (B, 4·width, H/s, W/s)``."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        cout = width * self.expansion
        self.conv1, self.bn1 = _conv_bn(cin, width, 1)
        self.conv2, self.bn2 = _conv_bn(width, width, 3, stride)
        self.conv3, self.bn3 = _conv_bn(width, cout, 1)
        self.shortcut = _shortcut(cin, cout, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNet(T2DModel):
    """CIFAR ResNet.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        widths: base width per stage (the first stage has stride 1, the others stride 2).
        num_classes: head outputs.
        in_chans: input channels.
        image_size: nominal input size (any size works: global pooling).
        stem_pool: a 2×2 max-pool after the stem, so the stages run at half resolution (4× less
            compute; the CPU-sized ``resnet_s``). The paper's CIFAR stem has none.

    Shapes: ``features: (B, in_chans, H, W) -> (B, widths[-1] * block.expansion)``.
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: Sequence[int],
                 widths: Sequence[int] = (64, 128, 256, 512), num_classes: int = 10,
                 in_chans: int = 3, image_size: int = DEFAULT_IMAGE_SIZE,
                 stem_pool: bool = False) -> None:
        super().__init__(image_size)
        check_int("in_chans", in_chans, 1)
        self.conv1, self.bn1 = _conv_bn(in_chans, widths[0], 3)
        self.pool = nn.MaxPool2d(2) if stem_pool else nn.Identity()
        cin, stages = widths[0], []
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, w, stride=2 if i > 0 and j == 0 else 1))
                cin = w * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.num_features = cin
        init_cnn_(self)
        self.reset_head(num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_features)``: stem, stages, global average pool."""
        return global_pool(self.stages(self.pool(F.relu(self.bn1(self.conv1(x))))))


@register_model("resnet", paper=True)
def resnet18(num_classes: int = 10, **kwargs) -> ResNet:
    """ResNet-18, CIFAR stem: BasicBlock [2,2,2,2], widths 64-512, 512-d features."""
    return ResNet(BasicBlock, num_classes=num_classes, **{"layers": (2, 2, 2, 2), **kwargs})


@register_model("resnet", paper=True)
def resnet50(num_classes: int = 10, **kwargs) -> ResNet:
    """ResNet-50, CIFAR stem: Bottleneck [3,4,6,3], widths 64-512 (×4), 2048-d features."""
    return ResNet(Bottleneck, num_classes=num_classes, **{"layers": (3, 4, 6, 3), **kwargs})


@register_model("resnet")
def resnet_s(num_classes: int = 10, **kwargs) -> ResNet:
    """Narrow CPU ResNet: stem + max-pool, BasicBlock [1,1,1,1], widths 16-128, 128-d."""
    cfg = {"layers": (1, 1, 1, 1), "widths": (16, 32, 64, 128), "stem_pool": True}
    return ResNet(BasicBlock, num_classes=num_classes, **{**cfg, **kwargs})
