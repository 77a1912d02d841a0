"""The contract every model shares: ``features`` (penultimate embedding) then a linear ``head``.

Probes and invariance metrics read ``features(x)``; classification is ``head(features(x))``.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from ..validation import check_int


class T2DModel(nn.Module):
    """Base class: a backbone with ``features`` and a linear ``head``.

    Subclasses build their layers, set ``num_features`` and call :meth:`reset_head` last (so
    the head is the last registered module), then implement :meth:`features`.

    Attributes:
        num_features: width ``D`` of the embedding returned by :meth:`features`.
        num_classes: number of outputs of ``head``.
        image_size: the input side length the model was built for (ViTs need it; CNNs pool
            globally and accept any size large enough for their downsampling).
        head: ``nn.Linear(num_features, num_classes)``.
    """

    num_features: int
    num_classes: int
    head: nn.Linear
    min_size: int = 1  # the smallest input side the downsampling leaves at least 1 px of

    def __init__(self, image_size: int = DEFAULT_IMAGE_SIZE) -> None:
        super().__init__()
        self.image_size = check_int("image_size", image_size, 1)

    def check_size(self, x: torch.Tensor) -> None:
        """A one-line error for inputs smaller than :attr:`min_size` (its pooling would leave
        no pixel)."""
        if min(x.shape[-2:]) < self.min_size:
            raise ConfigError(f"{type(self).__name__} needs inputs of at least {self.min_size} "
                              f"px (its pooling halves them), got {tuple(x.shape[-2:])}; use "
                              f"an image size >= {self.min_size} or another model.")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate representation: ``(B, C, H, W) -> (B, num_features)``."""
        raise NotImplementedError(f"{type(self).__name__} must define features()")  # abstract

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: ``(B, C, H, W) -> (B, num_classes)``, equal to ``head(features(x))``."""
        return self.head(self.features(x))

    def reset_head(self, num_classes: int) -> nn.Linear:
        """Replace ``head`` by a freshly initialised ``nn.Linear(num_features, num_classes)``.

        The new head takes the device and dtype of the old one. Returns the new head.
        """
        check_int("num_classes", num_classes, 1)
        old = getattr(self, "head", None)
        head = nn.Linear(self.num_features, num_classes)
        if isinstance(old, nn.Linear):
            head = head.to(device=old.weight.device, dtype=old.weight.dtype)
        self.head = head
        self.num_classes = num_classes
        return head


def init_cnn_(module: nn.Module) -> None:
    """Kaiming-normal (fan-out, ReLU) convolutions, unit/zero batch norm, zero conv biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def global_pool(x: torch.Tensor) -> torch.Tensor:
    """Global average pool: ``(B, C, H, W) -> (B, C)``."""
    return x.mean(dim=(2, 3))
