"""The performer's tempo from the followed positions, in measures per minute.

A page image says nothing of the written tempo, so the follower measures the
speed it sees: the slope of the fractional measure position over the last few
seconds (a least-squares line through the recent frames). A jump (a repeat,
a restart, a page forced by hand) starts the estimate afresh.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class TempoEstimator:
    """Feed it (time, measure position) every frame; it answers measures per minute, or None while unsure."""

    def __init__(self, window: float = 4.0, minimum: float = 2.0, jump: float = 1.5):
        self.window, self.minimum, self.jump = window, minimum, jump
        self.points: deque[tuple[float, float]] = deque()

    def reset(self) -> None:
        self.points.clear()

    def update(self, time: float, measure_position: float | None) -> float | None:
        """Add one frame's position; the tempo over the recent window (never negative)."""
        if measure_position is None:
            return self.estimate()
        if self.points and abs(measure_position - self.points[-1][1]) > self.jump:
            self.points.clear()
        self.points.append((time, measure_position))
        while time - self.points[0][0] > self.window:
            self.points.popleft()
        return self.estimate()

    def estimate(self) -> float | None:
        if len(self.points) < 3 or self.points[-1][0] - self.points[0][0] < self.minimum:
            return None
        times, measures = np.array(self.points).T
        slope = np.polyfit(times - times[0], measures, 1)[0]
        return float(max(slope, 0.0) * 60.0)
