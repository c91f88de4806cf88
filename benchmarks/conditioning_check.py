"""Can the audio steer the maps, and how fast does each initialisation learn it? Prints the Dice loss.

    python benchmarks/conditioning_check.py [--steps 150]

The paper-sized network on a toy task: one random page, two sounds (low or
high notes), two targets (left or right band). Compares the output prior and
learning rate of the default model with the paper's zero bias.
"""

from __future__ import annotations

import argparse

import torch

from sheetsync.model.config import PAPER
from sheetsync.model.network import ScoreFollower
from sheetsync.train.losses import dice_loss


def run(prior: float, lr: float, steps: int) -> None:
    torch.manual_seed(0)
    model = ScoreFollower(PAPER.replace(page_height=64, output_prior=prior))
    optimiser = torch.optim.Adam(model.parameters(), lr)
    batch, height, width = 8, 64, 96
    page = (torch.rand(1, 1, height, width) > 0.9).float().expand(batch, 1, 1, height, width)
    sound = torch.tensor([0, 1] * (batch // 2))
    windows = torch.randn(batch, 1, 78, 40) * 0.1
    windows[sound == 0, :, :20] += 2.0
    windows[sound == 1, :, 50:] += 2.0
    masks = torch.zeros(batch, 1, height, width)
    masks[sound == 0, :, 10:40, 20:25] = 1
    masks[sound == 1, :, 10:40, 70:75] = 1
    for _ in range(steps):
        logits, _ = model(page, windows, None)
        loss = dice_loss(logits[:, :, 0], masks, torch.ones(batch, 1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    probabilities = torch.sigmoid(logits[:, 0, 0]).detach()
    left = probabilities[:, 10:40, 20:25].mean((1, 2))
    right = probabilities[:, 10:40, 70:75].mean((1, 2))
    print(f"output prior {prior:<4g} lr {lr:g}: Dice loss {loss.item():.3f} after {steps} steps; "
          f"low notes light left/right {left[sound == 0].mean():.2f}/{right[sound == 0].mean():.2f}, "
          f"high notes {left[sound == 1].mean():.2f}/{right[sound == 1].mean():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    for prior, lr in ((0.0, 1e-4), (0.0, 3e-4), (0.02, 3e-4)):
        run(prior, lr, args.steps)


if __name__ == "__main__":
    main()
