"""Find systems and barlines on an engraved page with classical image processing.

Staff lines are the rows with the most ink; five evenly spaced lines make a
staff; staves joined by a line at their left edge make one system (a grand
staff, a choir score), a lone staff is a system of its own. Barlines are
columns inked over the full height of every staff of their system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INK = 235  # grey levels below this count as ink: thin lines at low resolution are very light


@dataclass(frozen=True)
class SystemLayout:
    """One system: its box (x0, y0, x1, y1) in page pixels and the x of each barline inside it."""

    bbox: tuple[float, float, float, float]
    barlines: tuple[float, ...]
    staves: int


@dataclass(frozen=True)
class PageLayout:
    systems: tuple[SystemLayout, ...]

    def system_at(self, x: float, y: float) -> int:
        """Index of the system nearest to the point (by vertical distance to its box)."""
        if not self.systems:
            return -1
        distances = [max(s.bbox[1] - y, 0, y - s.bbox[3]) for s in self.systems]
        return int(np.argmin(distances))


def detect_layout(image: np.ndarray) -> PageLayout:
    """Systems and barlines of a grey page (white paper, dark ink)."""
    ink = image < INK
    staves = _staves(ink)
    systems, current = [], []
    for staff in staves:
        if current and not _joined(ink, current[-1], staff):
            systems.append(_system(ink, current))
            current = []
        current.append(staff)
    if current:
        systems.append(_system(ink, current))
    return PageLayout(tuple(systems))


def _staff_line_rows(ink: np.ndarray) -> list[tuple[float, int, int]]:
    """(centre row, first column, last column) of each staff line candidate: the longest horizontal runs of
    ink on the page."""
    # A thin line drawn between two pixel rows is light in both: pair each row with the next.
    paired = ink[:-1] | ink[1:]
    extents = np.array([_longest_run(row) if row.any() else (0, -1) for row in paired]).reshape(-1, 2)
    runs = extents[:, 1] - extents[:, 0] + 1
    if runs.max(initial=0) <= 0:
        return []
    rows = np.flatnonzero(runs > 0.05 * ink.shape[1])  # a last system of one short bar too
    lines = []
    for group in _consecutive(rows):
        # a beam touching a staff line (or lying between two) joins their rows: the lines are the longest
        for line in _consecutive(group[runs[group] >= 0.9 * runs[group].max()]):
            longest = line[np.argmax(runs[line])]
            lines.append(((line[0] + line[-1] + 1) / 2, int(extents[longest, 0]), int(extents[longest, 1])))
    return lines


def _consecutive(rows: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive numbers in a sorted array."""
    return [group for group in np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1) if len(group)]


def _staves(ink: np.ndarray) -> list[tuple[float, float, int, int]]:
    """(top line y, bottom line y, left x, right x) of each five-line staff, top to bottom: five evenly spaced
    lines that begin and end together, passing over the runs between them that do not (beams)."""
    candidates = _staff_line_rows(ink)
    reach = ink.shape[0] / 40  # the widest staff space looked for
    ends = max(3, ink.shape[1] // 100)  # how far apart the ends of one staff's lines may be
    staves, i = [], 0
    while i < len(candidates):
        y, left, right = candidates[i]
        alike = [j for j in range(i, len(candidates)) if candidates[j][0] - y <= 4 * reach
                 and abs(candidates[j][1] - left) <= ends and abs(candidates[j][2] - right) <= ends][:5]
        lines = [candidates[j][0] for j in alike]
        gaps = np.diff(lines)
        if len(lines) == 5 and gaps.min() > 1 and gaps.max() <= min(1.35 * gaps.min(), reach):
            staves.append((lines[0], lines[4], left, right))
            i = alike[-1] + 1
        else:
            i += 1
    return staves


def _longest_run(row: np.ndarray) -> tuple[int, int]:
    """First and last column of the longest run of ink in a row (a staff line, not the brace beside it)."""
    padded = np.concatenate([[False], row, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    longest = int(np.argmax(stops - starts))
    return int(starts[longest]), int(stops[longest] - 1)


def _joined(ink: np.ndarray, upper, lower) -> bool:
    """Whether a line at the left edge joins two staves into one system."""
    left = min(upper[2], lower[2])
    segment = ink[int(upper[1]) + 1:int(lower[0]), max(left - 2, 0):left + 4]
    return segment.size > 0 and segment.any(axis=1).mean() > 0.9


def _system(ink: np.ndarray, staves) -> SystemLayout:
    x0 = min(s[2] for s in staves)
    x1 = max(s[3] for s in staves)
    y0, y1 = staves[0][0], staves[-1][1]
    inked = np.ones(ink.shape[1], dtype=bool)
    for top, bottom, _, _ in staves:
        rows = ink[int(np.ceil(top)):int(np.floor(bottom)) + 1]
        inked &= rows.mean(axis=0) >= 0.95
    columns = np.flatnonzero(inked[x0:x1 + 1]) + x0
    barlines, group = [], []
    for column in columns:
        if group and column - group[-1] > 6:
            barlines.append(float(np.mean(group)))
            group = []
        group.append(column)
    if group:
        barlines.append(float(np.mean(group)))
    # Skip the opening line, and clef, key and time signature (a "4" over a "4" inks a full column).
    space = (staves[0][1] - staves[0][0]) / 4
    barlines = [b for b in barlines if b - x0 > 15 * space or b >= x1 - 2]
    return SystemLayout((float(x0), float(y0), float(x1), float(y1)), tuple(barlines), len(staves))
