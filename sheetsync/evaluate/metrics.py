"""The paper's measures, as shared/DATASET.md defines them: pixel precision/recall/F1, alignment error
in centimetres, and how many onsets are tracked within 0.05/0.1/0.5/1/5 seconds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sheetsync.data.targets import onset_groups

TOLERANCES = (0.05, 0.1, 0.5, 1.0, 5.0)


@dataclass
class Totals:
    """Counts accumulated over frames and onsets (of one piece or of a whole set)."""

    true_positive: float = 0.0
    predicted: float = 0.0
    actual: float = 0.0
    frames: int = 0
    right_page: int = 0
    errors_cm: list = field(default_factory=list)
    onset_errors: list = field(default_factory=list)
    ms: list = field(default_factory=list)

    def add(self, other: "Totals") -> None:
        for name in ("true_positive", "predicted", "actual", "frames", "right_page"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors_cm += other.errors_cm
        self.onset_errors += other.onset_errors
        self.ms += other.ms

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.actual if self.actual else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def within(self, seconds: float) -> float:
        errors = np.asarray(self.onset_errors)
        return float((errors <= seconds).mean()) if len(errors) else 0.0


def centre_of_mass(mask: np.ndarray) -> tuple[float, float] | None:
    """(x, y) of a mask's centre of mass, None for an empty mask."""
    total = mask.sum()
    if total <= 0:
        return None
    rows, cols = np.nonzero(mask)
    weights = mask[rows, cols]
    return float((cols * weights).sum() / total), float((rows * weights).sum() / total)


def score_time(piece, system: int, x: float, near: float) -> float:
    """The performance time at which the music is at `x` on `system`, the occurrence nearest `near`.

    A system is played once per visit (repeats visit it again): each visit's onsets map x to time
    by linear interpolation.
    """
    times, systems, xs = onset_groups(piece)
    visits = np.flatnonzero(systems == system)
    if len(visits) == 0:
        return float("inf")
    # a visit ends where the music leaves the system or goes back along it (a repeat to its own start)
    breaks = np.flatnonzero((np.diff(visits) > 1) | (np.diff(xs[visits]) < 0)) + 1
    candidates = []
    for visit in np.split(visits, breaks):
        order = np.argsort(xs[visit], kind="stable")
        candidates.append(float(np.interp(x, xs[visit][order], times[visit][order])))
    candidates = np.array(candidates)
    return float(candidates[np.argmin(np.abs(candidates - near))])


def predicted_time(piece, page: int, x: float, y: float, near: float) -> float:
    """The performance time a followed position (0-based page, page pixels) stands for, nearest `near`;
    infinity when the page has no system."""
    system = nearest_system(piece, page, y)
    return score_time(piece, system, x, near) if system >= 0 else float("inf")


def nearest_system(piece, page: int, y: float) -> int:
    """Index of the piece's system on `page` whose box is nearest to height `y` (page pixels)."""
    best, distance = -1, float("inf")
    for index, system in enumerate(piece.systems):
        if system.page != page:
            continue
        gap = max(system.bbox[1] - y, 0.0, y - system.bbox[3])
        if gap < distance:
            best, distance = index, gap
    return best
