"""What the follower tells plugins: plain frozen dataclasses, cheap to create 20 times a second."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Position:
    """Where the music is now (one per audio frame)."""

    time: float
    frame: int
    page: int
    x: float
    y: float
    system: int
    measure: int | None
    progress: float
    confidence: float
    tempo: float | None = None  # measures per minute, estimated from recent positions
    measure_position: float | None = None  # the measure plus the fraction of it played: 12.4 is 40% into bar 12

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PageInfo:
    """One page of the score: its size in pixels, its systems (boxes in those pixels) and its image
    (grey uint8, white paper, `height` x `width`; for viewers)."""

    number: int
    width: int
    height: int
    systems: tuple[tuple[float, float, float, float], ...] = ()
    first_measure: int | None = None
    image: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Session:
    """A performance being followed: the score and the follower's settings."""

    title: str
    score: str
    pages: tuple[PageInfo, ...]
    fps: float
    source: str
    extra: dict = field(default_factory=dict)
