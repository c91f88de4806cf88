"""A toy task that shows whether the audio can steer the map at all.

One random page, two sounds (low or high notes), two targets (a band on the
left or on the right). A network that learns it in a few hundred steps can be
conditioned; one that cannot has a problem no real data will fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sheetsync.model.network import ScoreFollower
from sheetsync.train.losses import dice_loss


@dataclass(frozen=True)
class ProbeResult:
    """Dice loss after training, and each example's mean probability in the left and right target."""

    loss: float
    sound: torch.Tensor  # (batch,) 0 = low notes (target left), 1 = high notes (target right)
    left: torch.Tensor
    right: torch.Tensor


def two_sounds(model: ScoreFollower, lr: float, steps: int, height: int, width: int,
               batch: int = 8) -> ProbeResult:
    """Train `model` on the toy task for `steps` Adam steps (seeded) and report where its maps light up."""
    torch.manual_seed(0)
    config = model.config
    optimiser = torch.optim.Adam(model.parameters(), lr)
    page = (torch.rand(1, 1, height, width) > 0.9).float().expand(batch, 1, 1, height, width)
    sound = torch.tensor([0, 1] * (batch // 2))
    windows = torch.randn(batch, 1, config.n_bins, config.frames_in) * 0.1
    windows[sound == 0, :, :20] += 2.0
    windows[sound == 1, :, 50:] += 2.0
    rows = slice(height // 6, height * 2 // 3)
    left, right = slice(width // 6, width // 6 + 4), slice(width * 3 // 4, width * 3 // 4 + 4)
    masks = torch.zeros(batch, 1, height, width)
    masks[sound == 0, :, rows, left] = 1
    masks[sound == 1, :, rows, right] = 1
    for _ in range(steps):
        logits, _ = model(page, windows, None)
        loss = dice_loss(logits[:, :, 0], masks, torch.ones(batch, 1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    probabilities = torch.sigmoid(logits[:, 0, 0]).detach()
    return ProbeResult(float(loss), sound, probabilities[:, rows, left].mean((1, 2)),
                       probabilities[:, rows, right].mean((1, 2)))
