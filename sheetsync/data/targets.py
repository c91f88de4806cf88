"""The ground truth that follows from the dataset format: where the music is at each audio frame.

For a frame, the position is the last onset at or before the frame's time,
moved linearly in x toward the next onset when that one lies further right on
the same system (never across a system break or back over a repeat). The
target mask is a band of fixed width around that x, as tall as the system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.audio.features import FPS

BAND_WIDTH = 10.0  # model pixels at the paper's page height (400), as in the paper


@dataclass(frozen=True)
class Track:
    """Per-frame ground truth of one piece, in stored page pixels; page is -1 before the first onset."""

    page: np.ndarray
    system: np.ndarray
    x: np.ndarray

    def __len__(self) -> int:
        return len(self.page)


def onset_groups(piece) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, system, x) of each distinct onset time: rows sharing a time are one onset."""
    times = np.array([o.time for o in piece.onsets])
    systems = np.array([o.system for o in piece.onsets])
    xs = np.array([o.x for o in piece.onsets])
    unique, first = np.unique(times, return_index=True)
    group_system = systems[first]
    group_x = np.array([xs[(times == t) & (systems == s)].mean() for t, s in zip(unique, group_system)])
    return unique, group_system, group_x


def frame_times(n_frames: int) -> np.ndarray:
    return np.arange(n_frames) / FPS


def track(piece, n_frames: int) -> Track:
    """The ground-truth position of every frame of a piece's audio."""
    return track_at(piece, frame_times(n_frames))


def track_at(piece, times: np.ndarray) -> Track:
    """The ground-truth position at arbitrary times (seconds)."""
    onset_time, onset_system, onset_x = onset_groups(piece)
    index = np.searchsorted(onset_time, times, side="right") - 1
    started = index >= 0
    k = np.clip(index, 0, len(onset_time) - 1)
    nxt = np.clip(k + 1, 0, len(onset_time) - 1)
    moves_on = started & (nxt > k) & (onset_system[nxt] == onset_system[k]) & (onset_x[nxt] > onset_x[k])
    span = np.where(moves_on, onset_time[nxt] - onset_time[k], 1.0)
    fraction = np.clip((times - onset_time[k]) / span, 0.0, 1.0)
    x = onset_x[k] + np.where(moves_on, fraction * (onset_x[nxt] - onset_x[k]), 0.0)
    system = np.where(started, onset_system[k], -1)
    system_page = np.array([s.page for s in piece.systems])
    page = np.where(started, system_page[np.maximum(system, 0)], -1)
    return Track(page.astype(np.int64), system.astype(np.int64), np.where(started, x, np.nan))


def band_masks(x: np.ndarray, y0: np.ndarray, y1: np.ndarray, shape: tuple[int, int],
               width: float = BAND_WIDTH) -> np.ndarray:
    """(N, H, W) target masks in model pixels: bands `width` wide around each x, spanning y0..y1.

    A NaN x (nothing played yet) gives an empty mask.
    """
    height, page_width = shape
    rows = np.arange(height)[None, :, None]
    cols = np.arange(page_width)[None, None, :]
    x = np.asarray(x, dtype=np.float64)[:, None, None]
    inside_x = (cols >= np.round(x - width / 2)) & (cols < np.round(x + width / 2))
    inside_y = (rows >= np.floor(np.asarray(y0))[:, None, None]) & (rows <= np.ceil(np.asarray(y1))[:, None, None])
    return (inside_x & inside_y).astype(np.float32)


def band_width(model_height: int) -> float:
    """The target band's width in model pixels for pages `model_height` high (as wide on paper as the paper's)."""
    from sheetsync.score.images import MODEL_PAGE_HEIGHT

    return BAND_WIDTH * model_height / MODEL_PAGE_HEIGHT
