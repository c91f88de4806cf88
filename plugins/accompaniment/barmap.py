"""Which accompaniment bar a score measure plays: a measure count, shifted, or segments for repeats (TOML).

    offset = 0          # accompaniment bar = score measure + offset   (either this ...)
    pickup = 0.25       # the score's first measure is a pickup: the last quarter of its accompaniment bar

    [[segment]]         # ... or segments: score measures first..last play from accompaniment bar `bar`
    score = [1, 8]
    bar = 1
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sheetsync.errors import SheetsyncError

KEYS = {"offset", "pickup", "segment"}
SEGMENT_KEYS = {"score", "bar"}


@dataclass(frozen=True)
class Segment:
    first: int  # score measures first..last (inclusive)
    last: int
    bar: int  # the accompaniment bar score measure `first` plays


@dataclass(frozen=True)
class BarMap:
    """Score measure position (measure + fraction) -> accompaniment bar position (bar + fraction)."""

    offset: int = 0
    pickup: float | None = None
    segments: tuple[Segment, ...] = ()

    def to_bar(self, measure_position: float) -> float | None:
        """The accompaniment's bar position for a score measure position, or None where nothing is mapped."""
        measure = int(measure_position)
        fraction = measure_position - measure
        if self.segments:
            segment = next((s for s in self.segments if s.first <= measure <= s.last), None)
            if segment is None:
                return None
            bar = segment.bar + measure - segment.first
        else:
            bar = measure + self.offset
        if bar < 1:
            return None
        if self.pickup is not None and measure == self.first_measure:
            fraction = 1 - self.pickup + fraction * self.pickup
        return bar + fraction

    @property
    def first_measure(self) -> int:
        """The score's first mapped measure (the pickup, when there is one)."""
        return min(s.first for s in self.segments) if self.segments else 1

    def check_bars(self, bars: int, where: str) -> None:
        """Fail clearly when a segment points past the accompaniment's `bars` bars."""
        for segment in self.segments:
            end = segment.bar + segment.last - segment.first
            if end > bars:
                raise SheetsyncError(f"{where}: segment score = [{segment.first}, {segment.last}] needs accompaniment "
                                     f"bars {segment.bar}-{end}, but the MIDI file has {bars} bars")


def load(path: str | Path) -> BarMap:
    """Read and check a map file; every problem is one clear error naming the file."""
    path = str(path)
    try:
        with open(path, "rb") as stream:
            table = tomllib.load(stream)
    except FileNotFoundError:
        raise SheetsyncError(f"accompaniment map '{path}' does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise SheetsyncError(f"accompaniment map '{path}' is not valid TOML: {error}") from error
    return parse(table, path)


def parse(table: dict, where: str = "accompaniment map") -> BarMap:
    """A BarMap from an already-read TOML table (`where` names it in errors)."""
    unknown = set(table) - KEYS
    if unknown:
        raise SheetsyncError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
    if "offset" in table and "segment" in table:
        raise SheetsyncError(f"{where}: give either 'offset' or [[segment]] tables, not both")
    offset = table.get("offset", 0)
    if not _is_int(offset):
        raise SheetsyncError(f"{where}: offset must be a whole number of bars, not {offset!r}")
    pickup = table.get("pickup")
    if pickup is not None and (isinstance(pickup, bool) or not isinstance(pickup, (int, float))
                               or not 0 < pickup < 1):
        raise SheetsyncError(f"{where}: pickup must be a fraction of a bar between 0 and 1, not {pickup!r}")
    raw = table.get("segment", [])
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise SheetsyncError(f"{where}: 'segment' must be [[segment]] tables")
    segments = tuple(_segment(s, i + 1, where) for i, s in enumerate(raw))
    ordered = sorted(segments, key=lambda s: s.first)
    for before, after in zip(ordered, ordered[1:]):
        if after.first <= before.last:
            raise SheetsyncError(f"{where}: segments score = [{before.first}, {before.last}] and "
                                 f"[{after.first}, {after.last}] overlap")
    return BarMap(offset=offset, pickup=None if pickup is None else float(pickup), segments=segments)


def _segment(raw: dict, number: int, where: str) -> Segment:
    unknown = set(raw) - SEGMENT_KEYS
    missing = SEGMENT_KEYS - set(raw)
    if unknown or missing:
        problem = f"unknown key(s) {', '.join(sorted(unknown))}" if unknown else f"missing {', '.join(sorted(missing))}"
        raise SheetsyncError(f"{where}: segment {number}: {problem} (a segment has score = [first, last] and bar = N)")
    score, bar = raw["score"], raw["bar"]
    if not (isinstance(score, list) and len(score) == 2 and all(_is_int(m) and m >= 0 for m in score)
            and score[0] <= score[1]):
        raise SheetsyncError(f"{where}: segment {number}: score must be [first, last] measures with "
                             f"0 <= first <= last, not {score!r}")
    if not _is_int(bar) or bar < 1:
        raise SheetsyncError(f"{where}: segment {number}: bar must be an accompaniment bar number >= 1, not {bar!r}")
    return Segment(first=score[0], last=score[1], bar=bar)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
