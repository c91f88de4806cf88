"""Alignment: where in reading order the music is, from everything heard so far.

One frame of evidence seldom says where the music is: a chord, a scale step
or a whole bar recurs on a page, and a network that answers from two seconds
of audio lights every place that prints them. A performer, though, moves on
from where they were. The follower therefore keeps a belief over every
position of the score in reading order (`ReadingOrder`: every model-pixel
column of every system of every page, one system after another, so the last
column of a system leads to the first of the next, across page turns) and,
every frame, the forward pass of a hidden Markov model:

- moves the belief on: a bank of speeds (columns per frame, from a fermata's
  near-standstill to a fast run), the mass at each speed carried forward by
  it; the speeds drift slowly into each other, so the follower learns the
  performer's tempo from the evidence alone;
- lets a little of it jump: to the start of any system (a repeat, a restart,
  a page turned back) and anywhere at all, so the follower recovers; jumps
  back are far likelier than jumps forward, since music repeats what it has
  played and a later passage that prints the same notes must not capture
  the belief before the music gets there;
- weighs it by the frame's evidence (see sheetsync.tracking.evidence).

The belief's peak is the position; the belief itself, summed over a band
of columns, is the follower's probability map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.score.layout import PageLayout


@dataclass(frozen=True)
class AlignmentSettings:
    enabled: bool = True  # False: read each frame's map on its own, the paper's way
    # Columns per frame (a model page is about 280 columns wide; 20 frames a second). On 114 validation
    # pieces the slowest speed 0.2 / 0.3 / 0.4 / 0.5 tracks 86.9 / 87.7 / 87.8 / 87.6% of onsets within 0.5 s
    # (pixel F1 0.657 / 0.663 / 0.668 / 0.660): at slower speeds the belief lingers on columns that match
    # anything a little (a chord at the end of a system) while the music has moved on.
    slowest: float = 0.4
    fastest: float = 6.0
    # speeds between the two, spaced evenly in log. Finer steps follow a tempo more closely: on 36 long composed
    # development pieces 12 speeds (speed_change 0.01) / 24 (0.04) / 24 (0.02) give pixel F1 0.681 / 0.693 / 0.697,
    # 44.3 / 51.8 / 51.2% of onsets within 0.05 s; validation, 12 / 24 (0.02): F1 0.739 / 0.742, 92.7 / 92.9% within
    # 0.5 s. Each speed costs its share of the alignment's time per frame, and 36 (0.03) gain little more on the
    # development pieces (F1 0.699, 51.1% within 0.05 s).
    speeds: int = 24
    # share of each speed's mass that drifts to each neighbouring speed per frame. Printed spacing is not even in
    # time (for a few notes at a time the music crosses twice the columns per frame), so the follower must change
    # speed within a note or two: with 12 speeds, on the development pieces 0.003 / 0.01 / 0.015 / 0.03 give pixel
    # F1 0.669 / 0.681 / 0.682 / 0.674 (validation: 0.728 / 0.739 at the first two, 92.7% within 0.5 s at both).
    # Halving the step between speeds needs four times the drift for the same spread in log speed per frame; 24
    # speeds take 0.02 (twice the drift; see speeds).
    speed_change: float = 0.02
    # Shares of the mass per frame that jump to the start of some system, and anywhere at all. Rare: on 60
    # validation pieces 1e-4 and 1e-6 track alike (83.4 / 83.3% within 0.5 s), but more jumps flicker between
    # pages that print similar phrases (the example: 18% of its second half shown on the first page at 1e-4).
    # Fewer still keep the belief on a section's return rather than on its printed twin (see forward_jumps).
    restart: float = 1e-7
    anywhere: float = 1e-7
    # A jump forward is this many times as likely as one back (to each landing). On 32 composed development
    # pieces, 1 / 0.1 / 0.01 / 0.001 track 76.7 / 77.3 / 78.1 / 78.8% of onsets within 0.5 s. On 36 longer ones,
    # forward_jumps 1e-4 with restart 1e-7 (from 1e-3 and 1e-6, changed together; sharpness 2.0, speed_change
    # 0.003) lifts pixel F1 from 0.656 to 0.664, and validation holds (0.729 against 0.728).
    forward_jumps: float = 1e-4
    start_columns: int = 15  # the first music of a system is within this many columns of its start...
    jump_columns: int = 40  # ...and a jump lands within this many
    lead_columns: int = 2  # the position shown is this far ahead of the likeliest: a note is heard only once
    # it sounds, so the likeliest column trails its onset (on 60 validation pieces by 0.1 s; 2 columns: 0.02 s)


class ReadingOrder:
    """Every column of every system in reading order: the positions the alignment moves through.

    layouts: each page's systems (page pixels); scales: model pixels per page pixel; shapes: each model-sized
    page (height, width). Arrays by position: page, column (model pixels), top and bottom (rows of its system,
    model pixels), system (0-based, counted through the whole score), and its system's first and last positions.
    """

    def __init__(self, layouts: list[PageLayout], scales: list[float], shapes: list[tuple[int, int]]):
        rows = []
        system = 0
        for page, (layout, scale, (height, width)) in enumerate(zip(layouts, scales, shapes)):
            for box in (s.bbox for s in layout.systems):
                top, bottom = int(np.floor(box[1] * scale)), min(int(np.ceil(box[3] * scale)) + 1, height)
                first, last = int(np.ceil(box[0] * scale)), min(int(np.floor(box[2] * scale)), width - 1)
                rows += [(page, column, top, bottom, system) for column in range(first, last + 1)]
                system += 1
        self._arrange(np.array(rows, dtype=np.int64).reshape(-1, 5))

    def _arrange(self, table: np.ndarray) -> None:
        self.page, self.column, self.top, self.bottom, self.system = table.T
        starts = np.flatnonzero(np.diff(self.system, prepend=-1) != 0)
        ends = np.append(starts[1:], len(self.system))[:len(starts)] - 1
        self.system_first = np.repeat(starts, ends - starts + 1)  # by position: its system's first position...
        self.system_last = np.repeat(ends, ends - starts + 1)  # ...and last

    def subset(self, kept: np.ndarray) -> "ReadingOrder":
        """The same order through only the positions where `kept` (N,) is true."""
        order = object.__new__(ReadingOrder)
        order._arrange(np.stack([self.page, self.column, self.top, self.bottom, self.system], axis=1)[kept])
        return order

    def __len__(self) -> int:
        return len(self.page)

    def of_page(self, page: int) -> slice:
        """The positions on a page (0-based): they follow each other in reading order."""
        found = np.flatnonzero(self.page == page)
        return slice(int(found[0]), int(found[-1]) + 1) if len(found) else slice(0, 0)

    def systems_on(self, page: int) -> list[slice]:
        """The positions of each system on a page (0-based), a slice a system, in reading order."""
        firsts = np.unique(self.system_first[self.of_page(page)])
        return [slice(int(first), int(self.system_last[first]) + 1) for first in firsts]

    def first_of_page(self, page: int) -> int:
        """The first position on `page` or, on a page without systems, the first one after it."""
        later = np.flatnonzero(self.page >= page)
        return int(later[0]) if len(later) else max(len(self) - 1, 0)

    def ahead(self, position, columns: int):
        """The position (or positions, an array) `columns` further on, at most to the end of its system."""
        return np.minimum(np.asarray(position) + columns, self.system_last[position])

    def system_starts(self, columns: int) -> np.ndarray:
        """(N,) 1 on the first `columns` positions of every system, 0 elsewhere."""
        return (np.arange(len(self)) - self.system_first < columns).astype(np.float64)


class Alignment:
    """The belief over a ReadingOrder, moved on and weighed frame by frame.

    last_notes: (N,) by position, its system's last note (a position): the position shown goes no further than
    that note's (it too `lead_columns` on), for the last note of a system is held where it is printed, not
    across the space after it (default: the system's last position).
    """

    def __init__(self, order: ReadingOrder, settings: AlignmentSettings = AlignmentSettings(),
                 last_notes: np.ndarray | None = None):
        self.order, self.settings = order, settings
        shown_at = np.arange(len(order)) if last_notes is None else np.minimum(np.arange(len(order)), last_notes)
        self.display = order.ahead(shown_at, settings.lead_columns)  # by position, the position shown for it
        self.speeds = np.geomspace(settings.slowest, settings.fastest, settings.speeds)
        jumps = order.system_starts(settings.jump_columns)
        self.landing = jumps / jumps.sum() if jumps.sum() else np.full(len(order), 1 / max(len(order), 1))
        self.reset(0)

    def reset(self, position: int) -> None:
        """Start over: the music begins within `start_columns` of `position`, at any speed."""
        belief = np.zeros((len(self.speeds), len(self.order)))
        if len(self.order):
            belief[:, position:int(self.order.ahead(position, self.settings.start_columns - 1)) + 1] = 1.0
        self.belief = belief / max(belief.sum(), 1e-30)

    @property
    def positions(self) -> np.ndarray:
        """(N,) how likely the music is at each position, whatever its speed."""
        return self.belief.sum(axis=0)

    def update(self, likelihood: np.ndarray) -> int:
        """Move on one frame, weigh by `likelihood` (N,) (any scale); the position now: the likeliest, moved
        on by `lead_columns` (at most to its system's last note's)."""
        settings = self.settings
        belief = np.stack([_carried(row, speed) for row, speed in zip(self.belief, self.speeds)])
        drift = settings.speed_change
        slower = np.concatenate([belief[:1], belief[:-1]])
        faster = np.concatenate([belief[1:], belief[-1:]])
        belief = (1 - 2 * drift) * belief + drift * (slower + faster)
        uniform = np.full(belief.shape[1], 1 / belief.shape[1])
        belief = (belief + _jumped(belief, self.landing, settings.restart, settings.forward_jumps)
                  + _jumped(belief, uniform, settings.anywhere, settings.forward_jumps))
        weighed = belief * likelihood[None]
        total = weighed.sum()
        self.belief = weighed / total if total > 0 and np.isfinite(total) else belief / belief.sum()
        return int(self.display[int(self.positions.argmax())])

    def shown(self) -> np.ndarray:
        """(N,) how likely each position is the one shown: the music's, moved on by `lead_columns` (at most to its
        system's last note's)."""
        positions = self.positions
        return np.bincount(self.display, weights=positions, minlength=len(positions))

    def band(self, columns: int) -> np.ndarray:
        """(N,) probability that the position shown is within columns // 2 of each position (on its system)."""
        positions, order = self.shown(), self.order
        half = int(columns) // 2
        cumulative = np.concatenate([[0.0], np.cumsum(positions)])
        index = np.arange(len(positions))
        low = np.maximum(index - half, order.system_first)
        high = np.minimum(index + half, order.system_last) + 1
        return cumulative[high] - cumulative[low]

    def paint(self, page: int, shape: tuple[int, int], columns: int) -> np.ndarray:
        """(H, W) probability map of a page: each pixel of a system, the band probability of its column."""
        picture = np.zeros(shape, dtype=np.float32)
        order, band = self.order, self.band(columns)
        for system in order.systems_on(page):
            picture[order.top[system.start]:order.bottom[system.start], order.column[system]] = band[system]
        return picture


def _jumped(belief: np.ndarray, landing: np.ndarray, rate: float, forward: float) -> np.ndarray:
    """(S, N) the change to `belief` (S speeds, N positions) when `rate` of each position's mass jumps (keeping
    its speed) to the other positions, in proportion to `landing` (N,), those ahead of it weighed by `forward`.
    Linear in N: the mass each position sends is spread by cumulative sums, not by an N x N matrix."""
    landed = np.concatenate([[0.0], np.cumsum(landing)])
    behind, ahead = landed[:-1], landed[-1] - landed[1:]  # landing weight behind and ahead of each position
    reach = behind + forward * ahead
    sent = rate * belief * (reach > 0)
    spread = np.concatenate([np.zeros((len(belief), 1)), np.cumsum(sent / np.maximum(reach, 1e-300), axis=1)], 1)
    from_ahead, from_behind = spread[:, -1:] - spread[:, 1:], spread[:, :-1]
    return landing * (from_ahead + forward * from_behind) - sent


def _carried(mass: np.ndarray, speed: float) -> np.ndarray:
    """Mass moved `speed` positions on (split between the two nearest whole shifts); what would pass the
    last position stays there (the end of the piece)."""
    whole, part = int(speed), speed - int(speed)
    moved = np.zeros_like(mass)
    size = len(mass)
    for shift, weight in ((whole, 1 - part), (whole + 1, part)):
        if shift < size:
            moved[shift:] += weight * mass[:size - shift]
            moved[-1] += weight * mass[size - shift:].sum()
        else:
            moved[-1] += weight * mass.sum()
    return moved
