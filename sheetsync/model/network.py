"""The score follower's network: the page U-Net conditioned on the audio path.

Training runs whole sequences; following runs one frame at a time, with the
audio-independent block A of each page computed once (`prepare_page`) and the
conditioning vector z shared by every candidate page (`step`, then `predict`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sheetsync.model.config import ModelConfig
from sheetsync.model.encoders import AudioConditioner
from sheetsync.model.unet import ConditionedUNet


@dataclass
class PageCache:
    """Block A's output for one padded page, and the page's own size to crop back to."""

    features: torch.Tensor
    height: int
    width: int


class ScoreFollower(nn.Module):
    """Audio-conditioned U-Net (Henkel et al., ISMIR 2020)."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        self.audio = AudioConditioner(config)
        self.unet = ConditionedUNet(config)
        initialise(self)

    def pad(self, pages: torch.Tensor) -> torch.Tensor:
        """Pad (N, 1, H, W) pages with blank paper to a size the U-Net can halve."""
        multiple = self.config.page_multiple
        height, width = pages.shape[-2:]
        return F.pad(pages, (0, -width % multiple, 0, -height % multiple))

    def forward(self, pages: torch.Tensor, windows: torch.Tensor, state=None, frames: torch.Tensor | None = None):
        """Logits (B, T, 1, H, W) for pages (B, 1, H, W) and windows (B, T, bins, frames_in), and the final state.

        `frames` (B, K) picks which of the T steps to run the U-Net for (all when None): the
        audio path always runs every step, so the LSTM sees the whole sequence.
        """
        batch, steps = windows.shape[:2]
        z, state = self.audio(windows, state)
        if frames is not None:
            z = torch.gather(z, 1, frames[..., None].expand(-1, -1, z.shape[-1]))
            steps = frames.shape[1]
        height, width = pages.shape[-2:]
        a = self.unet.first(self.pad(pages))
        a = a[:, None].expand(-1, steps, -1, -1, -1).flatten(0, 1)
        logits = self.unet.rest(a, z.flatten(0, 1))[..., :height, :width]
        return logits.view(batch, steps, 1, height, width), state

    @torch.no_grad()
    def prepare_page(self, page: torch.Tensor) -> PageCache:
        """The audio-independent work for one (1, H, W) or (H, W) page."""
        page = page.reshape(1, 1, *page.shape[-2:])
        return PageCache(self.unet.first(self.pad(page)), page.shape[-2], page.shape[-1])

    @torch.no_grad()
    def step(self, window: torch.Tensor, state=None):
        """One audio step: a (bins, frames_in) window -> z (1, hidden) and the new state."""
        z, state = self.audio(window.reshape(1, 1, *window.shape[-2:]), state)
        return z[:, -1], state

    @torch.no_grad()
    def predict(self, cache: PageCache, z: torch.Tensor) -> torch.Tensor:
        """Probability map (H, W) of where the music is on the cached page."""
        logits = self.unet.rest(cache.features, z)
        return torch.sigmoid(logits[0, 0, :cache.height, :cache.width])


def initialise(model: nn.Module) -> None:
    """Orthogonal weights and zero biases, as the paper; normalisation layers keep their defaults."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LSTM):
            for name, parameter in module.named_parameters():
                (nn.init.orthogonal_ if name.startswith("weight") else nn.init.zeros_)(parameter)
