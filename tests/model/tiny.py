"""Tiny models and random inputs for the model tests."""

from __future__ import annotations

import torch

from sheetsync.model.config import TINY
from sheetsync.model.network import ScoreFollower


def tiny_model(variant: str = "CB", seed: int = 1, **changes) -> ScoreFollower:
    """A tiny model in eval mode, its normalisation set to something other than 0/1."""
    torch.manual_seed(seed)
    model = ScoreFollower(TINY.replace(variant=variant, **changes)).eval()
    model.set_normalisation(torch.linspace(0.5, 1.5, 78), torch.linspace(0.8, 1.2, 78))
    return model


def random_windows(model: ScoreFollower, batch: int = 2, steps: int = 5, seed: int = 0) -> torch.Tensor:
    """(batch, steps, 78, frames_in) spectrogram-like windows."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, steps, 78, model.config.frames_in, generator=generator) * 3


def random_pages(count: int = 2, height: int = 32, width: int = 24, seed: int = 0) -> torch.Tensor:
    """(count, 1, height, width) sparse "ink" pages."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(count, 1, height, width, generator=generator) > 0.8).float()
