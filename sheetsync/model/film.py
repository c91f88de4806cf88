"""Feature-wise linear modulation: the audio steers the U-Net's feature maps."""

from __future__ import annotations

import torch
from torch import nn


class FiLM(nn.Module):
    """Per-channel gamma(z) * x + beta(z), gamma and beta affine maps of z.

    gamma is parametrised as 1 + W z so that the untrained layer passes features
    through unchanged (with orthogonal W and zero biases the paper's plain W z
    starts near zero and mutes the page); the family of functions is the same.
    """

    def __init__(self, z_size: int, channels: int):
        super().__init__()
        self.gamma = nn.Linear(z_size, channels)
        self.beta = nn.Linear(z_size, channels)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma = 1.0 + self.gamma(z)[:, :, None, None]
        return x * gamma + self.beta(z)[:, :, None, None]
