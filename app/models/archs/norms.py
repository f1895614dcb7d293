"""Normalisation layers that always use the statistics of each image.

The official DeblurGAN predictors run their networks in train mode on purpose, so every norm layer normalises with
the current image's statistics. Doing that with `F.instance_norm` (rather than flipping modules into train mode)
keeps the behaviour per image even when a batch holds several images, never touches the loaded running stats,
and lets the modules stay in eval mode. The parameter and buffer names match the checkpoints exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PerImageBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d (affine) evaluated as train-mode BatchNorm on a batch of one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=self.weight, bias=self.bias, use_input_stats=True, eps=self.eps)


class PerImageInstanceNorm2d(nn.InstanceNorm2d):
    """InstanceNorm2d(affine=False, track_running_stats=True), always on the input's own statistics."""

    def __init__(self, num_features: int) -> None:
        super().__init__(num_features, affine=False, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, use_input_stats=True, eps=self.eps)
