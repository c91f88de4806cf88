"""How well does a note-reader checkpoint read, could its page features place the music, and does its own
query? Prints all three.

    python benchmarks/reader_check.py --data data/corpus --checkpoint runs/n2/best [--pieces 3]

For the first pages of some validation pieces: the share of noteheads whose
register the reader gets right (and within one bin), then, for a dozen
frames a page, the best any query could do with the page's features: one
query fitted for all frames (what a map can do without listening) and one
fitted for each frame (what a perfect audio path could do), and the
checkpoint's own query, from what it hears of the piece up to each frame
(`--history-start` first resets a PH model's query to its untrained start).
Each reports the cross-entropy of the target band (a uniform map scores
log(pixels), about 11.6) and how often the map's peak falls inside the
band. The gap between the per-frame fit and the model's own query is what
the audio path has still to learn.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from sheetsync.data.format import load_dataset
from sheetsync.model import checkpoint
from sheetsync.model.network import ask_for_history
from sheetsync.model.reader import READER_GAIN
from sheetsync.train.data import load_piece_tensors, target_masks, windows
from sheetsync.train.reading import register_counts


def fitted(features: torch.Tensor, masks: torch.Tensor, shared: bool, steps: int = 300) -> tuple[float, float]:
    """(cross-entropy, peak-in-band share) of queries fitted to features (D, P) for masks (F, P)."""
    target = masks / masks.sum(1, keepdim=True)
    query = torch.zeros(1 if shared else len(masks), features.shape[0] + 1, requires_grad=True)
    optimiser = torch.optim.Adam([query], 0.05)
    for _ in range(steps):
        logits = (query[:, :-1] @ features + query[:, -1:]) * READER_GAIN
        entropy = -(target * torch.log_softmax(logits, 1)).sum(1).mean()
        optimiser.zero_grad()
        entropy.backward()
        optimiser.step()
    return scores(logits.detach(), masks)


def scores(logits: torch.Tensor, masks: torch.Tensor) -> tuple[float, float]:
    """(cross-entropy, peak-in-band share) of logits (F, P) for masks (F, P)."""
    target = masks / masks.sum(1, keepdim=True)
    entropy = -(target * torch.log_softmax(logits, 1)).sum(1).mean()
    return float(entropy), float(masks.gather(1, logits.argmax(1, keepdim=True)).mean())


def heard(model, piece, image: torch.Tensor, frames: np.ndarray) -> torch.Tensor:
    """(F, P) logits of the model's own query at `frames`, the audio run from the start of the piece."""
    window = windows(piece.spectrogram, np.arange(frames.max() + 1), model.config.frames_in)
    with torch.no_grad():
        logits, _ = model(image, torch.from_numpy(window.astype(np.float32))[None])
    return logits[0, frames, 0].flatten(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--pieces", type=int, default=3)
    parser.add_argument("--history-start", action="store_true",
                        help="measure a PH model's query as it starts, before any training of the match")
    args = parser.parse_args()
    model, _ = checkpoint.load(args.checkpoint)
    if model.reader is None:
        parser.error(f"{args.checkpoint} has no note reader (its page path is {model.config.page_path})")
    if args.history_start:
        if model.config.variant != "PH":
            parser.error(f"{args.checkpoint} has no pitch history (its variant is {model.config.variant})")
        ask_for_history(model.query, model.config.hidden)
    model.eval()
    dataset = load_dataset(args.data)
    counts, results, own = np.zeros(3), {True: [], False: []}, []
    for piece_id in list(dataset.split("valid"))[:args.pieces]:
        piece = load_piece_tensors(dataset, piece_id, cache=Path(args.data) / ".cache")
        image = torch.from_numpy(piece.pages[0] / 255.0).float()[None, None]
        with torch.no_grad():
            features, outputs = model.read_page(image)
        height, width = piece.pages[0].shape
        counts += register_counts(outputs[0, :, :height, :width], piece.heads[0])
        frames = np.flatnonzero(piece.page == 0)[::40][:12]
        masks = torch.from_numpy(target_masks(piece, frames, (height, width))).flatten(1)
        flat = features[0, :, :height, :width].flatten(1)
        for shared in results:
            results[shared].append(fitted(flat, masks, shared))
        own.append(scores(heard(model, piece, image, frames), masks))
    right, near, heads = counts
    print(f"registers at {int(heads)} noteheads: {right / heads:.1%} right, {near / heads:.1%} within one bin")
    for shared, rows in results.items():
        entropy, peaks = np.mean(rows, axis=0)
        print(f"{'one query for all frames' if shared else 'a query fitted per frame'}: "
              f"band cross-entropy {entropy:.2f}, peak in the band {peaks:.0%}")
    entropy, peaks = np.mean(own, axis=0)
    print(f"the model's own query: band cross-entropy {entropy:.2f}, peak in the band {peaks:.0%}")


if __name__ == "__main__":
    main()
