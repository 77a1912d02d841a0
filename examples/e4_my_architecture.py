"""E4 (invariance mismatch, claim C8) with your own architecture instead of the paper's.

Register the model (one function), then run the experiment with ``--set model=<name>``: the
grid, the reports and the claim check are E4's own. The local executor runs the runs in this
process, where the model is registered.

    python examples/e4_my_architecture.py                     # quick profile, 3 seeds
    python examples/e4_my_architecture.py --profile smoke --seeds 1 --out /tmp/e4-mine

The report is written at the end of the run. A later ``t2d report`` of that folder must see
the model registered too (it rebuilds the grid): run it from Python after importing this file.
"""

from __future__ import annotations

import argparse

from torch import nn

from transforms2d.cli import main
from transforms2d.models import T2DModel, register_model


class WideShallow(T2DModel):
    """Two wide conv blocks and global pooling: ``(B, 3, S, S) -> (B, 128)``."""

    def __init__(self, num_classes: int = 10, image_size: int = 32) -> None:
        super().__init__(image_size)
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.num_features = 128
        self.reset_head(num_classes)

    def features(self, x):
        return self.body(x)


@register_model("mine")
def wide_shallow(num_classes: int = 10, **kwargs) -> WideShallow:
    """Two wide conv blocks (64, 128), global average pooling, 128-d features."""
    return WideShallow(num_classes=num_classes, **kwargs)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--seeds", default="3")
    ap.add_argument("--out", default="results/e4-wide-shallow")
    args = ap.parse_args()
    main(["run", "e4", "--profile", args.profile, "--seeds", args.seeds,
          "--set", "model=wide_shallow", "--out", args.out])
