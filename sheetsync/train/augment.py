"""Augmentation: what the paper lacked and real use needs.

Audio (on the log spectrogram, through its linear magnitudes): gain, a smooth
EQ colour, a noise floor and a room-like decay. Pages: shift, scale and slight
rotation (applied to page and target alike), blur, speckle noise and contrast,
for the look of other engravers and of scans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AudioAugment:
    gain: float
    eq: np.ndarray
    noise: float
    decay: float

    @classmethod
    def draw(cls, rng: np.random.Generator, bins: int) -> "AudioAugment":
        knots = rng.normal(0.0, 0.25, size=5)
        eq = np.exp(np.interp(np.linspace(0, 4, bins), np.arange(5), knots))
        return cls(gain=float(np.exp(rng.normal(0, 0.5))), eq=eq.astype(np.float32),
                   noise=float(rng.choice([0.0, rng.uniform(0.001, 0.05)])),
                   decay=float(rng.choice([0.0, rng.uniform(0.3, 0.85)])))

    def apply(self, spectrogram: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A whole piece's (frames, bins) log spectrogram, altered consistently in time."""
        linear = (10.0 ** spectrogram.astype(np.float32) - 1.0) * self.gain * self.eq
        if self.decay > 0:
            from scipy.signal import lfilter

            # the direct sound plus an exponentially decaying tail of what came before
            linear = linear + 0.5 * lfilter([0.0, 1.0 - self.decay], [1.0, -self.decay], linear, axis=0)
        if self.noise > 0:
            linear = linear + self.noise * rng.exponential(1.0, size=linear.shape)
        return np.log10(1.0 + np.maximum(linear, 0.0)).astype(np.float16)


def augment_pages(pages: torch.Tensor, masks: torch.Tensor, generator: torch.Generator,
                  max_shift: float = 0.05, max_scale: float = 0.1, max_degrees: float = 1.5):
    """One random affine warp per sequence for its pages and masks (both (N, K, H, W)), then look changes."""
    count = pages.shape[0]
    uniform = lambda low, high: low + (high - low) * torch.rand(count, generator=generator)  # noqa: E731
    scale = 1.0 + uniform(-max_scale, max_scale)
    angle = torch.deg2rad(uniform(-max_degrees, max_degrees))
    shift = torch.stack([uniform(-max_shift, max_shift), uniform(-max_shift, max_shift)], 1) * 2
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) / scale
    theta[:, 0, 1] = -torch.sin(angle) / scale
    theta[:, 1, 0] = torch.sin(angle) / scale
    theta[:, 1, 1] = torch.cos(angle) / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, pages.shape, align_corners=False)
    pages = F.grid_sample(pages, grid, align_corners=False, padding_mode="zeros")
    masks = (F.grid_sample(masks, grid, align_corners=False, padding_mode="zeros") > 0.5).float()
    blur = torch.rand(count, generator=generator) < 0.3
    if blur.any():
        kernel = torch.tensor([0.25, 0.5, 0.25])
        chosen = pages[blur]
        smoothed = F.conv2d(chosen.flatten(0, 1)[:, None], (kernel[:, None] * kernel[None, :])[None, None], padding=1)
        pages[blur] = smoothed.view_as(chosen)
    contrast = uniform(0.7, 1.2)[:, None, None, None]
    speckle = (torch.rand(pages.shape, generator=generator) < 0.002).float() * uniform(0, 1)[:, None, None, None]
    pages = (pages * contrast + speckle).clamp(0.0, 1.0)
    return pages, masks
