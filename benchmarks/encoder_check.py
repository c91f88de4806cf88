"""How fast does each audio encoder learn what sounds now? Prints pitch accuracy on validation pieces.

    python benchmarks/encoder_check.py --data data/corpus [--steps 600] [--pieces 200]

The probe: from one spectrogram window, predict the registers (the pitch
bins of sheetsync.train.pitch) of the notes struck last (a multi-label task
any score follower's audio path must solve). Compared: the paper's CB conv encoder, the same with the linear
shortcut of the last 3 frames (`ModelConfig.shortcut`), and that linear map
alone. "base" is the accuracy of always answering "silent".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sheetsync.data.format import load_dataset
from sheetsync.model.config import PAPER
from sheetsync.model.encoders import ContextEncoder
from sheetsync.model.network import initialise
from sheetsync.train.data import load_piece_tensors, spectrogram_statistics, windows
from sheetsync.train.pitch import PITCH_BINS


class Linear(nn.Module):
    def __init__(self, frames: int = 3):
        super().__init__()
        self.frames, self.linear = frames, nn.Linear(78 * frames, PAPER.embedding)

    def forward(self, window):
        return F.elu(self.linear(window[:, :, -self.frames:].flatten(1)))


def sample(pieces, count, rng, mean, std):
    rows, labels = [], []
    for _ in range(count):
        piece = pieces[rng.integers(len(pieces))]
        frames = rng.integers(len(piece), size=8)
        rows.append(windows(piece.spectrogram, frames, PAPER.context))
        labels.append(piece.sounding[frames])
    window = (torch.from_numpy(np.concatenate(rows).astype(np.float32)) - mean[:, None]) / std[:, None]
    return window, torch.from_numpy(np.concatenate(labels))


def run(name, encoder, train, valid, steps, mean, std) -> None:
    torch.manual_seed(0)
    initialise(encoder)
    head = nn.Linear(PAPER.embedding, PITCH_BINS)
    optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=1e-3)
    rng = np.random.default_rng(0)
    valid_windows, valid_labels = sample(valid, 64, np.random.default_rng(1), mean, std)
    for step in range(1, steps + 1):
        window, labels = sample(train, 8, rng, mean, std)
        loss = F.binary_cross_entropy_with_logits(head(encoder(window)), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 100 == 0:
            with torch.no_grad():
                accuracy = ((head(encoder(valid_windows)) > 0) == (valid_labels > 0.5)).float().mean()
            base = 1 - valid_labels.mean()
            print(f"{name:>14}  step {step:4d}  accuracy {accuracy:.3f}  (base {base:.3f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--pieces", type=int, default=200)
    args = parser.parse_args()
    dataset = load_dataset(args.data)
    cache = Path(args.data) / ".cache"
    train = [load_piece_tensors(dataset, i, cache=cache) for i in list(dataset.split("train"))[:args.pieces]]
    valid = [load_piece_tensors(dataset, i, cache=cache) for i in list(dataset.split("valid"))[:8]]
    mean, std = map(torch.from_numpy, spectrogram_statistics(train))
    run("CB (paper)", ContextEncoder(PAPER), train, valid, args.steps, mean, std)
    run("CB + shortcut", ContextEncoder(PAPER.replace(shortcut=3)), train, valid, args.steps, mean, std)
    run("linear only", Linear(), train, valid, args.steps, mean, std)


if __name__ == "__main__":
    main()
