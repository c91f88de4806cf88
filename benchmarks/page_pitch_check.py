"""Can the page U-Net learn to read which pitches each column of a system prints? Prints loss and F1.

    python benchmarks/page_pitch_check.py --data data/corpus [--steps 300] [--pages 8] [--match-levels 3]

The page-side counterpart of encoder_check.py: the default model's U-Net
alone, trained on the pitch-class targets of `--pitch-weight`
(sheetsync.train.pitch) with page augmentation, no audio and no Dice. "F1"
counts the pitch bins said (logit > 0) inside note columns against those
printed there. Knowing only where the columns are brings the loss down with
F1 near 0; reading pitch shows as F1 rising (registers, the bins used now:
F1 0.12 after 225 steps; pitch classes, used before: 0.01 after 325).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from sheetsync.data.format import load_dataset
from sheetsync.model.config import DEFAULT
from sheetsync.model.network import ScoreFollower
from sheetsync.train.augment import augment_pages
from sheetsync.train.data import load_piece_tensors
from sheetsync.train.pitch import PITCH_BINS, column_maps, column_width, pitch_losses


def batch(pages, count, rng, generator):
    """`count` random pages (N, 1, H, W) and their printed pitch bins (N, PITCH_BINS, H, W), augmented alike."""
    chosen = [pages[i] for i in rng.choice(len(pages), count)]
    height = max(piece.pages[k].shape[0] for piece, k in chosen)
    width = max(piece.pages[k].shape[1] for piece, k in chosen)
    images, targets = torch.zeros(count, 1, height, width), torch.zeros(count, PITCH_BINS, height, width)
    for i, (piece, k) in enumerate(chosen):
        image = piece.pages[k]
        images[i, 0, :image.shape[0], :image.shape[1]] = torch.from_numpy(image / 255.0)
        maps = column_maps(piece.columns[k], image.shape, column_width(DEFAULT.page_height))
        targets[i, :, :image.shape[0], :image.shape[1]] = torch.from_numpy(maps)
    return augment_pages(images, targets, generator)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--pages", type=int, default=8, help="pages a step (default 8)")
    parser.add_argument("--pieces", type=int, default=300)
    parser.add_argument("--match-levels", type=int, default=DEFAULT.match_levels)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    dataset = load_dataset(args.data)
    cache = Path(args.data) / ".cache"
    pieces = [load_piece_tensors(dataset, i, cache=cache) for i in list(dataset.split("train"))[:args.pieces]]
    pages = [(piece, k) for piece in pieces for k in range(len(piece.pages))]
    torch.manual_seed(0)
    model = ScoreFollower(DEFAULT.replace(match_levels=args.match_levels)).train()
    optimiser = torch.optim.Adam(model.unet.parameters(), args.lr, weight_decay=1e-5)
    rng, generator = np.random.default_rng(0), torch.Generator().manual_seed(0)
    no_audio = (torch.zeros(1, 1, DEFAULT.match_dim + 1), torch.zeros(1, 1, PITCH_BINS), torch.ones(1, 1))
    losses, scores, started = [], [], time.monotonic()
    for step in range(1, args.steps + 1):
        images, targets = batch(pages, args.pages, rng, generator)
        features = model.unet.rest(model._block_a(images), None)[..., :images.shape[-2], :images.shape[-1]]
        loss, _ = pitch_losses(features, targets, *no_audio)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            said = (features[:, :PITCH_BINS] > 0) & (targets.sum(1, keepdim=True) > 0)
            printed = targets > 0.5
            scores.append(2 * float((said & printed).sum()) / max(float(said.sum() + printed.sum()), 1.0))
        losses.append(float(loss.detach()))
        if step % 25 == 0:
            print(f"step {step:4d}  loss {np.mean(losses[-25:]):.3f}  F1 {np.mean(scores[-25:]):.3f}  "
                  f"({time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
