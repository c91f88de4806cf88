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
from sheetsync.model.probe import two_sounds


def run(prior: float, lr: float, steps: int) -> None:
    torch.manual_seed(0)
    result = two_sounds(ScoreFollower(PAPER.replace(page_height=64, output_prior=prior)), lr, steps, 64, 96)
    low, high = result.sound == 0, result.sound == 1
    print(f"output prior {prior:<4g} lr {lr:g}: Dice loss {result.loss:.3f} after {steps} steps; "
          f"low notes light left/right {result.left[low].mean():.2f}/{result.right[low].mean():.2f}, "
          f"high notes {result.left[high].mean():.2f}/{result.right[high].mean():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    for prior, lr in ((0.0, 1e-4), (0.0, 3e-4), (0.02, 3e-4)):
        run(prior, lr, args.steps)


if __name__ == "__main__":
    main()
