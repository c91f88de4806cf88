"""Continuity: music moves on from where it was, so a map is weighed by nearness to the last position.

The network reads each frame's map from what it has heard; where several
columns of a page print what was just heard (a repeated bar, a recurring
chord) its map lights all of them. A performer is almost always a little
after where they were a moment ago, so the follower keeps its position in
reading order (in systems: 5.25 is a quarter into the sixth system of the
piece) and multiplies every map by a gate that is 1 from a little behind that
position to a little ahead of it, falling to `floor` away from it. The model
can still jump anywhere: when the ungated map is sure of a place the gate hides
for `relocate_frames` frames running (a repeat, a restart, a jump), the
follower moves there. While the maps are unsure, the position moves on at
the pace it has been moving (sheetsync.tracking.tempo, in systems per minute).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.audio.features import FPS
from sheetsync.score.layout import PageLayout
from sheetsync.tracking.tempo import TempoEstimator


@dataclass(frozen=True)
class ContinuitySettings:
    enabled: bool = True
    behind: float = 0.05  # systems behind the last position the gate stays open (the map's band is wide)...
    ahead: float = 0.25  # ...and ahead of it (far more than music moves in a frame)
    spread: float = 0.1  # systems over which the gate falls from 1 towards the floor beyond that
    floor: float = 0.05  # the gate far from the last position: elsewhere is unlikely, not impossible
    relocate_frames: int = 40  # frames (2 s) another place must read surer before the follower moves there
    relocate_margin: float = 0.3  # how much surer (peak probability)
    hold_below: float = 0.3  # a map whose gated peak is lower says nothing (silence, noise): the position holds


def progress_map(layout: PageLayout, first_system: int, shape: tuple[int, int], scale: float) -> np.ndarray:
    """(H, W) reading-order position in systems of every model pixel of a page (a row outside every system
    takes its nearest system's; all NaN on a page without systems).

    layout: the page's systems in page pixels; first_system: how many systems the earlier pages hold;
    shape: the model-sized page; scale: model pixels per page pixel.
    """
    progress = np.full(shape, np.nan, dtype=np.float32)
    columns = np.arange(shape[1], dtype=np.float32) / scale
    for index, system in enumerate(layout.systems):
        x0, y0, x1, y1 = system.bbox
        top, bottom = int(np.floor(y0 * scale)), int(np.ceil(y1 * scale)) + 1
        along = np.clip((columns - x0) / max(x1 - x0, 1.0), 0.0, 1.0)
        progress[max(top, 0):bottom] = first_system + index + along
    inside = np.flatnonzero(~np.isnan(progress[:, 0]))
    if len(inside) == 0:
        return progress
    rows = np.arange(shape[0])
    return progress[inside[np.abs(rows[:, None] - inside[None, :]).argmin(1)]]


class Continuity:
    """The gate of each page around the last position, and when to give that position up for another."""

    def __init__(self, progress_maps: list[np.ndarray], settings: ContinuitySettings = ContinuitySettings()):
        self.maps, self.settings = progress_maps, settings
        self.pace = TempoEstimator(jump=1.0)  # systems per minute
        self.reset()

    def reset(self, position: float | None = 0.0) -> None:
        """Start at `position` (systems; None: anywhere, no gate until the first sure reading)."""
        self.position = position
        self._challenger = 0
        self.pace.reset()

    def gate(self, page: int) -> np.ndarray | None:
        """(H, W) weights for a page's map (None: no gate)."""
        settings = self.settings
        if not settings.enabled or self.position is None or np.isnan(self.maps[page][0, 0]):
            return None  # (a page without systems: nothing to say where on it the music is)
        offset = self.maps[page] - self.position
        beyond = np.maximum(np.maximum(offset - settings.ahead, -settings.behind - offset), 0.0)
        return (settings.floor + (1 - settings.floor) * np.exp(-0.5 * (beyond / settings.spread) ** 2)).astype(
            np.float32)

    def update(self, time: float, gated_peak: float, gated_at: float | None, free_peak: float,
               free_at: float | None) -> bool:
        """After the frame at `time` (s): the peak and the position (systems; None off every system) of the
        current page's gated map, and of the surest ungated map read. True when the follower gives its position
        up for the latter."""
        settings = self.settings
        if free_at is not None and free_peak >= 0.5 and free_peak > gated_peak + settings.relocate_margin:
            self._challenger += 1
            if self._challenger >= settings.relocate_frames or self.position is None:
                self.reset(free_at)
                return True
        else:
            self._challenger = 0
        if gated_at is not None and gated_peak >= settings.hold_below:
            self.position = gated_at
            self.pace.update(time, gated_at)
        elif self.position is not None:
            self.position += (self.pace.estimate() or 0.0) / 60 / FPS
        return False
