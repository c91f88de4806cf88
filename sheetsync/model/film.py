"""Feature-wise linear modulation (FiLM): the audio steers the U-Net's feature maps."""

from __future__ import annotations

import torch
from torch import nn


class FiLM(nn.Module):
    """Per channel gamma(z) * x + beta(z), with gamma and beta linear maps of z (as published)."""

    def __init__(self, z_size: int, channels: int):
        super().__init__()
        self.gamma = nn.Linear(z_size, channels)
        self.beta = nn.Linear(z_size, channels)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) modulated by z (N, z_size)."""
        return x * self.gamma(z)[:, :, None, None] + self.beta(z)[:, :, None, None]
