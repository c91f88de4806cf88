"""The audio path: spectrogram context -> embedding -> (LSTM) -> conditioning vector z."""

from __future__ import annotations

import torch
from torch import nn

from sheetsync.model.config import ModelConfig


def conv_norm_elu(channels_in: int, channels_out: int) -> list[nn.Module]:
    """conv3x3 -> layer norm (GroupNorm with one group) -> ELU."""
    return [nn.Conv2d(channels_in, channels_out, 3, padding=1), nn.GroupNorm(1, channels_out), nn.ELU()]


class ConvAudioEncoder(nn.Module):
    """The "CB" encoder: four conv stages with pooling over a (bins x context) window, then linear."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        layers: list[nn.Module] = []
        channels, height, width = 1, config.n_bins, config.context
        for out in config.audio_channels:
            layers += conv_norm_elu(channels, out) + conv_norm_elu(out, out) + [nn.MaxPool2d(2)]
            channels, height, width = out, height // 2, width // 2
        layers.append(nn.Conv2d(channels, config.audio_channels[-1], 1))
        self.convs = nn.Sequential(*layers)
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(config.audio_channels[-1] * height * width,
                                                             config.embedding),
                                     nn.LayerNorm(config.embedding), nn.ELU())

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(N, bins, context) -> (N, embedding)."""
        return self.project(self.convs(windows[:, None]))


class FrameAudioEncoder(nn.Module):
    """The "FB" encoder: the current frame only, linear."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(config.n_bins, config.embedding),
                                     nn.LayerNorm(config.embedding), nn.ELU())

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.project(windows[:, :, -1:])


class AudioConditioner(nn.Module):
    """Spectrogram windows -> z, carrying the LSTM state across the whole performance."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.n_bins))
        self.register_buffer("std", torch.ones(config.n_bins))
        self.encoder = FrameAudioEncoder(config) if config.variant == "FB" else ConvAudioEncoder(config)
        if config.recurrent:
            self.lstm = nn.LSTM(config.embedding, config.hidden, batch_first=True)
        else:
            self.lstm = None
            self.temporal = nn.Sequential(nn.Linear(config.embedding, config.hidden), nn.ELU())

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-bin statistics of the training spectrograms."""
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype).clamp_min(1e-5))

    def forward(self, windows: torch.Tensor, state=None):
        """(B, T, bins, frames) windows -> (B, T, hidden) z and the state after the last step."""
        batch, steps = windows.shape[:2]
        normalised = (windows - self.mean[:, None]) / self.std[:, None]
        embedded = self.encoder(normalised.flatten(0, 1)).view(batch, steps, -1)
        if self.lstm is None:
            return self.temporal(embedded), None
        z, state = self.lstm(embedded, state)
        return z, state
