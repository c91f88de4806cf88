"""Pitch supervision: what sounds at each frame, and what is printed at each column of a page.

With "match" conditioning the map is the dot product of per-pixel page
features with a per-frame audio query. Left alone, neither side learns to say
which notes it holds for thousands of steps (the Dice loss on a thin band
gives them little to go on). These targets tell both sides directly, in the
first PITCH_BINS channels they share: the query, which pitches the last onset
struck; a page pixel, which pitches are printed in its system at its column.
Their dot product is then high where the heard notes are written.

Pitches are coded by register, in bins of three semitones from C1, not by
pitch class: a notehead's height on its staff shows its register within a
semitone, where its pitch class also needs the clef and key signature at the
start of the system, usually beyond what a column's pixels see. Measured with
benchmarks/page_pitch_check.py: the U-Net says registers with F1 0.12 after
225 steps of 8 pages, pitch classes with F1 0.01 after 325.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from sheetsync.data.targets import frame_times
from sheetsync.model.reader import PITCH_BINS

LOWEST_PITCH = 24  # C1; lower notes join the first bin
BIN_SEMITONES = 3
# PITCH_BINS (28, up to B7; higher notes join the last bin) is the note reader's, imported above.
COLUMN_WIDTH = 5.0  # model pixels at the paper's page height: a notehead's width
OUTSIDE_WEIGHT = 0.05  # of pixels outside any note column, in the page loss


def pitch_bin(pitch: int) -> int:
    """The register bin of a MIDI pitch."""
    return min(max((pitch - LOWEST_PITCH) // BIN_SEMITONES, 0), PITCH_BINS - 1)


def sounding_pitches(piece, n_frames: int) -> np.ndarray:
    """(frames, PITCH_BINS) float32: the pitch bins of the last onset at or before each frame (none before the
    first)."""
    groups: dict[float, set[int]] = {}
    for onset in piece.onsets:
        if onset.pitch is not None:
            groups.setdefault(onset.time, set()).add(pitch_bin(onset.pitch))
    times = np.array(sorted(groups))
    chords = np.zeros((len(times) + 1, PITCH_BINS), np.float32)
    for row, time in enumerate(times, start=1):
        chords[row, sorted(groups[time])] = 1.0
    return chords[np.searchsorted(times, frame_times(n_frames), side="right")]


def printed_columns(piece, page: int, scale: float) -> np.ndarray:
    """(N, 3 + PITCH_BINS) float32 rows of one page, in model pixels: x, system top, system bottom, then the
    pitch bins of the notes printed at that x (one row per distinct x of a system)."""
    columns: dict[tuple[int, float], set[int]] = {}
    for onset in piece.onsets:
        if onset.page == page and onset.pitch is not None:
            columns.setdefault((onset.system, round(onset.x, 1)), set()).add(pitch_bin(onset.pitch))
    rows = np.zeros((len(columns), 3 + PITCH_BINS), np.float32)
    for row, ((system, x), bins) in enumerate(columns.items()):
        box = piece.systems[system].bbox
        rows[row, :3] = (x * scale, box[1] * scale, box[3] * scale)
        rows[row, 3 + np.array(sorted(bins))] = 1.0
    return rows


def column_width(model_height: int) -> float:
    """A note column's width in model pixels for pages `model_height` high (as wide on paper at any height)."""
    from sheetsync.score.images import MODEL_PAGE_HEIGHT

    return COLUMN_WIDTH * model_height / MODEL_PAGE_HEIGHT


def column_maps(columns: np.ndarray, shape: tuple[int, int], width: float) -> np.ndarray:
    """(PITCH_BINS, H, W) float32: each pixel's printed pitch bins (`width`-wide columns spanning their system)."""
    height, page_width = shape
    maps = np.zeros((PITCH_BINS, height, page_width), np.float32)
    for x, top, bottom, *bins in columns:
        left, right = int(max(round(x - width / 2), 0)), int(min(round(x + width / 2), page_width))
        rows = slice(int(max(np.floor(top), 0)), int(min(np.ceil(bottom) + 1, height)))
        chosen = np.flatnonzero(bins)
        maps[chosen, rows, left:right] = 1.0
    return maps


def pitch_losses(features: torch.Tensor, page_targets: torch.Tensor, queries: torch.Tensor,
                 sounding: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(page loss, audio loss): `page_pitch_loss` and `audio_pitch_loss` together."""
    return page_pitch_loss(features, page_targets), audio_pitch_loss(queries, sounding, weights)


def page_pitch_loss(features: torch.Tensor, page_targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the first PITCH_BINS page-feature channels (N, D, H, W) against the printed pitch
    bins (N, PITCH_BINS, H, W), pixels outside any note column weighted OUTSIDE_WEIGHT."""
    inside = (page_targets.sum(1, keepdim=True) > 0).float()
    pixel_weight = (inside + OUTSIDE_WEIGHT).expand_as(page_targets)
    return F.binary_cross_entropy_with_logits(features[:, :PITCH_BINS].float(), page_targets,
                                              weight=pixel_weight, reduction="sum") / pixel_weight.sum()


def audio_pitch_loss(queries: torch.Tensor, sounding: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the first PITCH_BINS query dimensions (B, T, D+1) against what sounds
    (B, T, PITCH_BINS), steps weighted by (B, T)."""
    audio = F.binary_cross_entropy_with_logits(queries[..., :PITCH_BINS].float(), sounding, reduction="none")
    return (audio.mean(-1) * weights).sum() / weights.sum().clamp_min(1.0)
