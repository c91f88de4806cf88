"""Spectrogram encoders: one normalised window of frames -> one embedding vector."""

from __future__ import annotations

import math

import torch
from torch import nn

from sheetsync.model.config import HISTORY, ModelConfig
from sheetsync.model.reader import PITCH_BINS

FRAME_KERNEL = 3  # frames each of the PH encoder's per-frame register guesses hears
FRAME_HIDDEN = 128
REGISTER_PRIOR = 0.125  # the share of registers the last onset has struck, over the training corpus


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


class PitchHistory(nn.Module):
    """The "PH" encoder: which registers sound at every frame of the window (a two-layer convolution over
    FRAME_KERNEL frames), each pooled (max) over the lag windows of config.HISTORY: what sounds now and what
    sounded just before. `forward` gives that history and its embedding; `logits` the per-frame guesses, which
    learn from pitch supervision only (the trainer's --hearing-steps and --pitch-weight)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.frames = nn.Sequential(nn.Conv1d(config.n_bins, FRAME_HIDDEN, FRAME_KERNEL), nn.ELU(),
                                    nn.Conv1d(FRAME_HIDDEN, PITCH_BINS, 1))
        self.project = nn.Sequential(nn.Linear(PITCH_BINS * len(HISTORY), config.embedding),
                                     nn.LayerNorm(config.embedding), nn.ELU())

    def start_at_prior(self) -> None:
        """Start every register's guess at REGISTER_PRIOR (rather than 0.5, a long way for Adam's small steps)."""
        with torch.no_grad():
            self.frames[-1].bias.fill_(math.log(REGISTER_PRIOR / (1 - REGISTER_PRIOR)))

    def logits(self, windows: torch.Tensor) -> torch.Tensor:
        """(N, bins, context) -> (N, PITCH_BINS, context - FRAME_KERNEL + 1) register logits, the last column
        for the current frame."""
        return self.frames(windows)

    def forward(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, bins, context) -> the embedding (N, embedding) and the history (N, PITCH_BINS * len(HISTORY)),
        probabilities grouped by lag window."""
        # The history is what the registers' guesses say, taught by pitch supervision alone: the match learns to
        # use it, not to bend it (its own gradient, left to flow here, undid the hearing within a few hundred steps).
        heard = torch.sigmoid(self.logits(windows).detach()).flip(-1)  # column k: k frames back
        history = torch.cat([heard[..., first:last + 1].amax(-1) for first, last in HISTORY], dim=1)
        return self.project(history), history


def spectrogram_encoder(config: ModelConfig) -> nn.Module:
    """The encoder of a configuration's variant."""
    encoders = {"FB": FrameEncoder, "PH": PitchHistory}
    return encoders.get(config.variant, ContextEncoder)(config)
