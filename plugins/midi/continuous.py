"""Continuous controllers (`--midi-cc SOURCE:KIND:NUMBER[:CHANNEL]`): measure, progress or confidence as
7-bit CC, 14-bit CC pairs (NUMBER and NUMBER+32) or NRPN, sent only when the encoded value changes."""

from __future__ import annotations

from dataclasses import dataclass, field

import mido

from sheetsync.errors import SheetsyncError

SOURCES = ("measure", "progress", "confidence")
KINDS = {"cc": 127, "cc14": 16383, "nrpn": 16383}
USAGE = "SOURCE:KIND:NUMBER[:CHANNEL], e.g. progress:cc14:1 or measure:nrpn:300:2"


@dataclass
class Controller:
    """One source sent on one controller; remembers the last value it sent."""

    source: str
    kind: str
    number: int
    channel: int  # 0-15
    last: int | None = field(default=None, compare=False)

    def value(self, position) -> int | None:
        """The encoded value for `position`: measures as whole numbers, 0-1 sources scaled to the full range."""
        top = KINDS[self.kind]
        if self.source == "measure":
            return None if position.measure is None else max(0, min(top, int(position.measure)))
        raw = position.progress if self.source == "progress" else position.confidence
        return None if raw is None else round(max(0.0, min(1.0, float(raw))) * top)

    def messages(self, position) -> list[mido.Message]:
        """The messages to send for `position`: none when the value is unknown or unchanged."""
        value = self.value(position)
        if value is None or value == self.last:
            return []
        self.last = value
        cc = lambda control, v: mido.Message("control_change", channel=self.channel, control=control, value=v)  # noqa: E731
        if self.kind == "cc":
            return [cc(self.number, value)]
        if self.kind == "cc14":
            return [cc(self.number, value >> 7), cc(self.number + 32, value & 127)]
        return [cc(99, self.number >> 7), cc(98, self.number & 127), cc(6, value >> 7), cc(38, value & 127)]


def parse(spec: str) -> Controller:
    """A Controller from `SOURCE:KIND:NUMBER[:CHANNEL]` (channel 1-16, default 1)."""
    parts = spec.split(":")
    if len(parts) not in (3, 4):
        raise SheetsyncError(f"--midi-cc {spec!r}: expected {USAGE}")
    source, kind, number = parts[0].lower(), parts[1].lower(), parts[2]
    if source not in SOURCES:
        raise SheetsyncError(f"--midi-cc {spec!r}: source must be one of {', '.join(SOURCES)}")
    if kind not in KINDS:
        raise SheetsyncError(f"--midi-cc {spec!r}: kind must be cc (7-bit), cc14 (pair n, n+32) or nrpn")
    top = {"cc": 127, "cc14": 31, "nrpn": 16383}[kind]
    if not number.isdigit() or int(number) > top:
        raise SheetsyncError(f"--midi-cc {spec!r}: {kind} number must be 0-{top}")
    channel = parts[3] if len(parts) == 4 else "1"
    if not channel.isdigit() or not 1 <= int(channel) <= 16:
        raise SheetsyncError(f"--midi-cc {spec!r}: channel must be 1-16")
    return Controller(source, kind, int(number), int(channel) - 1)
