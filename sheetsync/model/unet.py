"""The page path: a U-Net over the whole page whose inner blocks are FiLM-conditioned on z.

With the paper's five widths the blocks are A-E down (E the bottleneck) and
F-I up; A and I are unconditioned, B-H carry a FiLM layer. Block A does not
depend on the audio, so `first` (block A) and `rest` (everything after it)
are separate: a follower computes `first` once per page. With "match"
conditioning no block is conditioned (z is None) and the output has
`match_dim` channels, the page's features for the audio to match: a 1x1 conv
of the last block's output, plus, with `match_levels` > 1, 1x1 convs of the
coarser decoder levels interpolated up (the last block alone has only
`unet_channels[0]` channels, fewer than the features it must carry).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sheetsync.model.config import ModelConfig
from sheetsync.model.film import FiLM


class Block(nn.Module):
    """conv3x3 -> LN -> ELU -> conv3x3 -> LN -> (FiLM) -> ELU; LN is GroupNorm with one group."""

    def __init__(self, channels_in: int, channels_out: int, z_size: int | None):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(1, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(1, channels_out)
        self.film = FiLM(z_size, channels_out) if z_size else None

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        # In-place ELUs are safe here (nothing reads the norm or FiLM outputs again) and save a copy each.
        x = self.norm2(self.conv2(F.elu(self.norm1(self.conv1(x)), inplace=True)))
        if self.film is not None:
            x = self.film(x, z)
        return F.elu(x, inplace=True)


class Up(nn.Module):
    """Interpolate x2 and a 1x1 conv to the skip's width; the skip is added, not concatenated.

    The conv runs before the interpolation: the same function as the paper's
    interpolate-then-conv (both are linear, and the interpolation's weights
    sum to one, so the bias passes through), at a quarter of the conv's cost
    and with half the channels to interpolate.
    """

    def __init__(self, channels_in: int, channels_out: int, mode: str):
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        options = {"align_corners": False} if self.mode == "bilinear" else {}
        return F.interpolate(self.conv(x), scale_factor=2, mode=self.mode, **options) + skip


class ConditionedUNet(nn.Module):
    """The U-Net; input sides must be multiples of `config.page_multiple`."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        widths = config.unet_channels
        z = None if config.matched else config.z_size
        levels = range(len(widths) - 1)
        self.first_block = Block(1, widths[0], None)
        self.down = nn.ModuleList(Block(widths[i], widths[i + 1], z) for i in levels)
        self.up = nn.ModuleList(Up(widths[i + 1], widths[i], config.upsample) for i in reversed(levels))
        self.decode = nn.ModuleList(Block(widths[i], widths[i], z if i > 0 else None) for i in reversed(levels))
        self.out = nn.Conv2d(widths[0], config.match_dim if config.matched else 1, 1)
        levels_matched = config.match_levels if config.matched else 1
        self.coarse = nn.ModuleList(nn.Conv2d(widths[i], config.match_dim, 1) for i in range(1, levels_matched))
        self.mode = config.upsample

    def first(self, pages: torch.Tensor) -> torch.Tensor:
        """Block A: (N, 1, H, W) pages -> (N, widths[0], H, W) features, independent of the audio."""
        return self.first_block(pages)

    def rest(self, a: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """Logits (N, 1, H, W) from block A's output (N, C, H, W) and z (N, z_size); page features
        (N, match_dim, H, W) and z None for "match"."""
        skips, x = [], a
        for block in self.down:
            skips.append(x)
            x = block(F.max_pool2d(x, 2), z)
        decoded = []
        for up, block in zip(self.up, self.decode):
            x = block(up(x, skips.pop()), z)
            decoded.append(x)
        out = self.out(x)
        options = {"align_corners": False} if self.mode == "bilinear" else {}
        for level, head in enumerate(self.coarse, start=1):
            out = out + F.interpolate(head(decoded[-1 - level]), size=out.shape[-2:], mode=self.mode, **options)
        return out

    def forward(self, pages: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """Logits (N, 1, H, W) for pages (N, 1, H, W) and z (N, z_size)."""
        return self.rest(self.first(pages), z)
