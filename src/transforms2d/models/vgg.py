"""VGG with batch norm, CIFAR style: conv3×3-BN-ReLU stacks, 'M' = 2×2 max-pool, one linear head.

At 32 px the five pools reduce to 1×1, so the global average pool is the flattening of the
classic CIFAR VGG; it also lets other sizes (multiples of 32) through.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..validation import check_int
from .base import T2DModel, global_pool, init_cnn_
from .registry import register_model

VGG11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


class VGG(T2DModel):
    """VGG-BN from a cfg: ints are conv widths (3×3, with bias as in the CIFAR VGG unless
    ``conv_bias=False``), 'M' pools.

    Shapes: ``features: (B, in_chans, H, W) -> (B, last width)``; H, W multiples of 2^#pools.
    """

    def __init__(self, cfg: Sequence[int | str], num_classes: int = 10, in_chans: int = 3,
                 image_size: int = DEFAULT_IMAGE_SIZE, conv_bias: bool = True) -> None:
        super().__init__(image_size)
        cin, layers = check_int("in_chans", in_chans, 1), []
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1, bias=conv_bias), nn.BatchNorm2d(v),
                           nn.ReLU(inplace=True)]
                cin = v
        self.body = nn.Sequential(*layers)
        self.min_size = 2 ** sum(v == "M" for v in cfg)
        self.num_features = cin
        init_cnn_(self)
        self.reset_head(num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, num_features)``."""
        self.check_size(x)
        return global_pool(self.body(x))


@register_model("vgg", paper=True)
def vgg11(num_classes: int = 10, **kwargs) -> VGG:
    """VGG-11 with batch norm, cfg [64,M,128,M,256,256,M,512,512,M,512,512,M], 512-d."""
    return VGG(VGG11, num_classes=num_classes, **kwargs)


@register_model("vgg")
def vgg_s(num_classes: int = 10, **kwargs) -> VGG:
    """Narrow VGG-11-BN (widths / 8): cfg [8,M,16,M,32,32,M,64,64,M,64,64,M], 64-d."""
    cfg = tuple(v if v == "M" else v // 8 for v in VGG11)
    return VGG(cfg, num_classes=num_classes, **kwargs)
