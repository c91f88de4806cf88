"""Teaching the note reader (sheetsync.model.reader) to read, and holding its page features when it is frozen.

The reader's first `reader_steps` training steps see no audio: crops of
training pages, with targets drawn from the dataset's onsets (each
notehead's centre `x, y` and pitch) and systems. A notehead is a disc of
HEAD_RADIUS pixels carrying its register bin and the notehead channel; the
system channel is 1 inside every system's box. Pixels away from noteheads
weigh AWAY_WEIGHT in the register and notehead channels, so a page's few
noteheads are not drowned by its paper.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from sheetsync.model.reader import HEAD, OUTPUTS, PITCH_BINS, SYSTEM
from sheetsync.train.pitch import pitch_bin

HEAD_RADIUS = 1.5  # model pixels at the paper's page height: about a notehead
AWAY_WEIGHT = 0.05
CROP = 96  # a crop's side in model pixels


def printed_heads(piece, page: int, scale: float) -> np.ndarray:
    """(N, 3) float32 rows x, y, register bin of the distinct noteheads of a page, in model pixels (onsets
    without `y` or `pitch` are left out)."""
    heads = {(round(o.x * scale, 1), round(o.y * scale, 1), pitch_bin(o.pitch)) for o in piece.onsets
             if o.page == page and o.y is not None and o.pitch is not None}
    return np.array(sorted(heads), np.float32).reshape(-1, 3)


def system_boxes(piece, page: int, scale: float) -> np.ndarray:
    """(N, 4) float32 boxes x0, y0, x1, y1 of a page's systems, in model pixels."""
    return np.array([s.bbox for s in piece.systems if s.page == page], np.float32).reshape(-1, 4) * scale


def reader_targets(heads: np.ndarray, boxes: np.ndarray, shape: tuple[int, int], origin=(0, 0),
                   radius: float = HEAD_RADIUS) -> np.ndarray:
    """(OUTPUTS, H, W) float32 targets of a page region `shape` whose top-left is `origin` (y, x)."""
    height, width = shape
    targets = np.zeros((OUTPUTS, height, width), np.float32)
    top, left = origin
    for x0, y0, x1, y1 in boxes:
        rows = slice(int(max(np.ceil(y0 - top), 0)), int(max(min(np.floor(y1 - top) + 1, height), 0)))
        columns = slice(int(max(np.ceil(x0 - left), 0)), int(max(min(np.floor(x1 - left) + 1, width), 0)))
        targets[SYSTEM, rows, columns] = 1.0
    reach = int(np.ceil(radius))
    for x, y, register in heads:
        x, y = x - left, y - top
        if not (-reach <= x < width + reach and -reach <= y < height + reach):
            continue
        ys = np.arange(max(int(y) - reach, 0), min(int(y) + reach + 2, height))
        xs = np.arange(max(int(x) - reach, 0), min(int(x) + reach + 2, width))
        if len(ys) == 0 or len(xs) == 0:
            continue
        disc = (ys[:, None] - y) ** 2 + (xs[None, :] - x) ** 2 <= radius * radius
        for channel in (int(register), HEAD):
            targets[channel, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1][disc] = 1.0
    return targets


def reader_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the reader's logits (N, OUTPUTS, H, W) against `reader_targets`: register and
    notehead channels weighted 1 on noteheads and AWAY_WEIGHT elsewhere, the system channel 1 everywhere."""
    near = targets[:, HEAD:HEAD + 1]
    weights = torch.cat([(near + AWAY_WEIGHT).expand(-1, PITCH_BINS + 1, -1, -1),
                         torch.ones_like(near)], dim=1)
    loss = F.binary_cross_entropy_with_logits(outputs.float(), targets, weight=weights, reduction="sum")
    return loss / weights.sum()


def crop_batch(pieces, count: int, rng: np.random.Generator, scale: float = 1.0,
               whole_rows: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` crops (N, 1, CROP, CROP) of random training pages near their noteheads, and their targets;
    whole_rows: crops CROP high and as wide as the widest page drawn (the others padded with blank paper), for
    a reader that looks along its rows."""
    size = max(16, round(CROP * scale))
    drawn = []
    for _ in range(count):
        piece = pieces[rng.integers(len(pieces))]
        drawn.append((piece, int(rng.integers(len(piece.pages)))))
    wide = max(piece.pages[number].shape[1] for piece, number in drawn) if whole_rows else size
    images, targets = np.zeros((count, 1, size, wide), np.float32), np.zeros((count, OUTPUTS, size, wide),
                                                                           np.float32)
    for i, (piece, number) in enumerate(drawn):
        page, heads = piece.pages[number], piece.heads[number]
        height, width = page.shape
        if len(heads):
            x, y = heads[rng.integers(len(heads)), :2]
        else:
            x, y = rng.uniform(0, width), rng.uniform(0, height)
        top = int(np.clip(y - size / 2 + rng.uniform(-0.3, 0.3) * size, 0, max(height - size, 0)))
        left = 0 if whole_rows else int(np.clip(x - size / 2 + rng.uniform(-0.4, 0.4) * size, 0, max(width - size, 0)))
        region = page[top:top + size, left:left + wide]
        images[i, 0, :region.shape[0], :region.shape[1]] = region / 255.0
        targets[i] = reader_targets(heads, piece.boxes[number], (size, wide), (top, left), HEAD_RADIUS * scale)
    return torch.from_numpy(images), torch.from_numpy(targets)


def register_counts(outputs: torch.Tensor, heads: np.ndarray) -> np.ndarray:
    """[right, within one bin, noteheads]: the reader's register (argmax at each notehead centre) against the
    printed one, for one page's outputs (OUTPUTS, H, W)."""
    if len(heads) == 0:
        return np.zeros(3)
    rows = torch.from_numpy(np.clip(np.round(heads[:, 1]), 0, outputs.shape[-2] - 1).astype(np.int64))
    columns = torch.from_numpy(np.clip(np.round(heads[:, 0]), 0, outputs.shape[-1] - 1).astype(np.int64))
    said = outputs[:PITCH_BINS, rows, columns].argmax(0).cpu().numpy()
    error = np.abs(said - heads[:, 2])
    return np.array([(error == 0).sum(), (error <= 1).sum(), len(heads)], np.float64)


class PageFeatures:
    """Page features of a frozen page path, kept for the most recently used `size` pages."""

    def __init__(self, model, size: int = 48):
        self.model, self.size = model, size
        self.kept: OrderedDict[tuple, torch.Tensor] = OrderedDict()

    @torch.no_grad()
    def __call__(self, keys: list, pages: torch.Tensor) -> list[torch.Tensor]:
        """The (match_dim, H', W') features of each of the (N, 1, H, W) `pages` named by `keys` (N hashable
        names), for ScoreFollower's `page_features`."""
        rows = []
        for key, page in zip(keys, pages):
            if key not in self.kept:
                self.kept[key] = self.model.read_page(page[None])[0][0]
                if len(self.kept) > self.size:
                    self.kept.popitem(last=False)
            self.kept.move_to_end(key)
            rows.append(self.kept[key])
        return rows
