"""Spectrogram encoders: one normalised window of frames -> one embedding vector."""

from __future__ import annotations

import torch
from torch import nn

from sheetsync.model.config import ModelConfig


def conv_norm_elu(channels_in: int, channels_out: int, kernel: int = 3) -> nn.Sequential:
    """conv -> layer norm (GroupNorm with one group) -> ELU, size-preserving."""
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, kernel, padding=kernel // 2),
                         nn.GroupNorm(1, channels_out), nn.ELU())


class ContextEncoder(nn.Module):
    """The "CB" encoder: four [conv3x3-LN-ELU]x2 + 2x2 max-pool stages, a 1x1 conv, then linear-LN-ELU.

    With `config.shortcut` frames, a linear map of the window's last frames is added before the LN.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        stages: list[nn.Module] = []
        channels, height, width = 1, config.n_bins, config.context
        for out in config.audio_channels:
            stages += [conv_norm_elu(channels, out), conv_norm_elu(out, out), nn.MaxPool2d(2)]
            channels, height, width = out, height // 2, width // 2
        stages.append(conv_norm_elu(channels, channels, kernel=1))
        self.convs = nn.Sequential(*stages)
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, config.embedding),
                                     nn.LayerNorm(config.embedding), nn.ELU())
        self.frames = config.shortcut
        self.shortcut = nn.Linear(config.n_bins * self.frames, config.embedding) if self.frames else None

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(N, bins, context) -> (N, embedding)."""
        flatten, linear, norm, elu = self.project
        embedded = linear(flatten(self.convs(windows[:, None])))
        if self.shortcut is not None:
            embedded = embedded + self.shortcut(windows[:, :, -self.frames:].flatten(1))
        return elu(norm(embedded))


class FrameEncoder(nn.Module):
    """The "FB" encoder: the current frame only, linear-LN-ELU."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(config.n_bins, config.embedding),
                                     nn.LayerNorm(config.embedding), nn.ELU())

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(N, bins, 1) -> (N, embedding)."""
        return self.project(windows[:, :, -1])


def spectrogram_encoder(config: ModelConfig) -> nn.Module:
    """The encoder of a configuration's variant."""
    return FrameEncoder(config) if config.variant == "FB" else ContextEncoder(config)
