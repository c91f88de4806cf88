"""The audio path: spectrogram windows -> normalise -> encode -> LSTM (or linear) -> z (with "PH", plus the
pitch history).

The LSTM state is PyTorch's `(h, c)`, each (1, B, hidden), or None for a
fresh start; NTC models have no state (always None). `detach_state` and
`reset_state` are what truncated back-propagation over parallel streams needs.
"""

from __future__ import annotations

import torch
from torch import nn

from sheetsync.model.config import ModelConfig
from sheetsync.model.encoders import FRAME_KERNEL, spectrogram_encoder

State = tuple[torch.Tensor, torch.Tensor] | None


class AudioConditioner(nn.Module):
    """Windows of spectrogram frames -> the conditioning vectors z, carrying the LSTM state.

    The per-bin mean and std of the training spectrograms are buffers (so
    they travel with the weights); they start as 0 and 1 until
    `set_normalisation` is called.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.n_bins))
        self.register_buffer("std", torch.ones(config.n_bins))
        self.encoder = spectrogram_encoder(config)
        if config.recurrent:
            self.lstm = nn.LSTM(config.embedding, config.hidden, batch_first=True)
        else:
            self.lstm = None
            self.temporal = nn.Sequential(nn.Linear(config.embedding, config.hidden), nn.ELU())

    @torch.no_grad()
    def set_normalisation(self, mean, std) -> None:
        """Per-bin statistics (n_bins,) of the training spectrograms, as arrays or tensors."""
        mean = torch.as_tensor(mean, dtype=self.mean.dtype).reshape(-1)
        std = torch.as_tensor(std, dtype=self.std.dtype).reshape(-1)
        if mean.numel() != self.config.n_bins or std.numel() != self.config.n_bins:
            raise ValueError(f"normalisation needs {self.config.n_bins} values per statistic, "
                             f"got {mean.numel()} and {std.numel()}")
        self.mean.copy_(mean)
        self.std.copy_(std.clamp_min(1e-5))

    def forward(self, windows: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        """(B, T, bins, frames_in) windows -> z (B, T, z_size) and the state after the last step.

        FB models also take (B, T, bins) frames.
        """
        windows = self._checked(windows)
        batch, steps = windows.shape[:2]
        embedded = self.encoder(self._normalised(windows).flatten(0, 1))
        history = None
        if isinstance(embedded, tuple):  # PH: the history is part of z
            embedded, history = embedded
        embedded = embedded.view(batch, steps, -1)
        if self.lstm is None:
            z, state = self.temporal(embedded), None
        else:
            z, state = self.lstm(embedded, state)
        return (z, state) if history is None else (torch.cat([z, history.view(batch, steps, -1)], -1), state)

    def pitch_logits(self, windows: torch.Tensor) -> torch.Tensor:
        """PH only: (B, T, bins, frames_in) windows -> (B, T, PITCH_BINS) logits of the registers sounding at
        each window's current frame."""
        windows = self._checked(windows)
        normalised = self._normalised(windows[..., -FRAME_KERNEL:])
        return self.encoder.logits(normalised.flatten(0, 1))[..., -1].unflatten(0, windows.shape[:2])

    def _normalised(self, windows: torch.Tensor) -> torch.Tensor:
        """Windows (..., bins, frames) with each bin's training mean and std taken out."""
        return (windows - self.mean[:, None]) / self.std[:, None]

    def _checked(self, windows: torch.Tensor) -> torch.Tensor:
        config = self.config
        if windows.dim() == 3 and config.frames_in == 1:
            windows = windows[..., None]
        if windows.dim() != 4 or windows.shape[-2:] != (config.n_bins, config.frames_in):
            raise ValueError(f"expected spectrogram windows (B, T, {config.n_bins}, {config.frames_in}), "
                             f"got {tuple(windows.shape)}")
        return windows


def detach_state(state: State) -> State:
    """The state cut from the graph: carry it into the next chunk without back-propagating into this one."""
    return None if state is None else tuple(s.detach() for s in state)


def reset_state(state: State, streams: torch.Tensor) -> State:
    """The state with the sequences where `streams` (B,) is true set back to a fresh start (zeros)."""
    if state is None:
        return None
    keep = (~streams.to(torch.bool, copy=False)).to(state[0].dtype)[None, :, None]
    return tuple(s * keep for s in state)
