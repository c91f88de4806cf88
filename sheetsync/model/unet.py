"""The page path: a U-Net over the whole page whose inner blocks are FiLM-conditioned on z."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sheetsync.model.config import ModelConfig
from sheetsync.model.film import FiLM


class Block(nn.Module):
    """conv3x3 -> LN -> ELU -> conv3x3 -> LN -> (FiLM) -> ELU."""

    def __init__(self, channels_in: int, channels_out: int, z_size: int | None):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(1, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(1, channels_out)
        self.film = FiLM(z_size, channels_out) if z_size else None

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        x = self.norm2(self.conv2(F.elu(self.norm1(self.conv1(x)))))
        if self.film is not None:
            x = self.film(x, z)
        return F.elu(x)


class Up(nn.Module):
    """Bilinear x2, then a 1x1 conv to the skip's channels; the skip is added."""

    def __init__(self, channels_in: int, channels_out: int):
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(x) + skip


class ConditionedUNet(nn.Module):
    """Blocks A..I (for five widths); A and I unconditioned, the rest FiLM-modulated by z.

    `first(page)` is block A, which does not depend on the audio: a follower
    computes it once per page; `rest(a, z)` does everything else.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        widths, z = config.unet_channels, config.hidden
        self.first_block = Block(1, widths[0], None)
        self.down = nn.ModuleList(Block(widths[i], widths[i + 1], z) for i in range(len(widths) - 1))
        self.up = nn.ModuleList(Up(widths[i + 1], widths[i]) for i in reversed(range(len(widths) - 1)))
        self.decode = nn.ModuleList(Block(widths[i], widths[i], z if i > 0 else None)
                                    for i in reversed(range(len(widths) - 1)))
        self.out = nn.Conv2d(widths[0], 1, 1)

    def first(self, page: torch.Tensor) -> torch.Tensor:
        return self.first_block(page)

    def rest(self, a: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Logits (N, 1, H, W) from block A's output (N, C, H, W) and z (N, hidden)."""
        skips, x = [a], a
        for block in self.down:
            x = block(F.max_pool2d(x, 2), z)
            skips.append(x)
        skips.pop()
        for up, block in zip(self.up, self.decode):
            x = up(x, skips.pop())
            x = block(x, z) if block.film is not None else block(x)
        return self.out(x)
