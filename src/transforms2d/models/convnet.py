"""Plain CNNs for CPU profiles: conv-BN-ReLU blocks, 2×2 max-pool between, global average pool.

At 32 px with four blocks the blocks run at 32, 16, 8 and 4 px.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import DEFAULT_IMAGE_SIZE
from .registry import register_model
from .vgg import VGG


class ConvNet(VGG):
    """``len(widths)`` blocks of 3×3 conv (no bias), BN, ReLU; a 2×2 max-pool between blocks.

    The VGG cfg ``[w0, 'M', w1, 'M', ..., w_last]`` without conv biases.
    Shapes: ``features: (B, in_chans, H, W) -> (B, widths[-1])``.
    """

    def __init__(self, widths: Sequence[int], num_classes: int = 10, in_chans: int = 3,
                 image_size: int = DEFAULT_IMAGE_SIZE) -> None:
        cfg = [item for w in widths for item in ("M", w)][1:]
        super().__init__(cfg, num_classes, in_chans, image_size, conv_bias=False)


@register_model("convnet")
def convnet_xs(num_classes: int = 10, **kwargs) -> ConvNet:
    """Tiny CNN: 4 conv-BN-ReLU blocks, widths 8-16-32-64, max-pool between, 64-d features."""
    return ConvNet((8, 16, 32, 64), num_classes=num_classes, **kwargs)


@register_model("convnet")
def convnet_s(num_classes: int = 10, **kwargs) -> ConvNet:
    """Small CNN: 4 conv-BN-ReLU blocks, widths 16-32-64-128, max-pool between, 128-d."""
    return ConvNet((16, 32, 64, 128), num_classes=num_classes, **kwargs)
