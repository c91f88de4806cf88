"""From a probability map to a position: centre of mass, confidence, and where that is in the score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.score.layout import PageLayout


@dataclass(frozen=True)
class MapReading:
    """What one probability map says: the centre of mass (model pixels) and how sure it is."""

    x: float
    y: float
    confidence: float
    mass: float


def read_map(probabilities: np.ndarray, threshold: float = 0.5) -> MapReading:
    """Centre of mass of the confident pixels (of the whole map when none pass), and the peak as confidence."""
    peak = float(probabilities.max())
    weights = np.where(probabilities >= min(threshold, peak), probabilities, 0.0)
    mass = float(weights.sum())
    if mass <= 0:
        height, width = probabilities.shape
        return MapReading(width / 2, height / 2, 0.0, 0.0)
    rows = np.arange(probabilities.shape[0])
    cols = np.arange(probabilities.shape[1])
    y = float((weights.sum(axis=1) * rows).sum() / mass)
    x = float((weights.sum(axis=0) * cols).sum() / mass)
    return MapReading(x, y, peak, float(probabilities.sum()))


@dataclass(frozen=True)
class Location:
    """A point's place in the score: 1-based system on its page (0: none), measure, fractional measure
    position (None where the system has no barlines) and progress 0-1 through the piece."""

    system: int
    measure: int | None
    measure_position: float | None
    progress: float


@dataclass(frozen=True)
class ScoreMap:
    """Reading order of a whole score: systems per page and barlines, for system, measure and progress."""

    layouts: tuple[PageLayout, ...]

    @property
    def total_systems(self) -> int:
        return sum(len(layout.systems) for layout in self.layouts)

    def first_system(self, page: int) -> int:
        return sum(len(layout.systems) for layout in self.layouts[:page])

    def first_measure(self, page: int) -> int:
        return 1 + sum(len(s.barlines) for layout in self.layouts[:page] for s in layout.systems)

    def locate(self, page: int, x: float, y: float) -> Location:
        """Where a point (page pixels) is in the score: system, measure and progress in reading order."""
        layout = self.layouts[page]
        index = layout.system_at(x, y)
        if index < 0:
            return Location(0, None, None, page / max(len(self.layouts), 1))
        system = layout.systems[index]
        x0, _, x1, _ = system.bbox
        within = float(np.clip((x - x0) / max(x1 - x0, 1.0), 0.0, 1.0))
        progress = (self.first_system(page) + index + within) / max(self.total_systems, 1)
        if not system.barlines:
            return Location(index + 1, None, None, progress)
        passed = sum(1 for b in system.barlines if b < x)
        measure = self.first_measure(page) + sum(len(s.barlines) for s in layout.systems[:index]) + passed
        bounds = (x0, *system.barlines)
        if passed >= len(system.barlines):
            bounds = (*bounds, x1)
            passed = len(bounds) - 2
        left, right = bounds[passed], bounds[passed + 1]
        fraction = float(np.clip((x - left) / max(right - left, 1.0), 0.0, 0.999))
        return Location(index + 1, measure, measure + fraction, progress)
