"""The OSC address space: which message carries what, as (address, type tags, arguments), and its encoding.

Only the types i (int32), f (float32) and s (string) are used, so that Max `[udpreceive]` and Pd `[oscparse]`
read every message. Unknown measures are sent as 0 (measures are numbered from 1), flags as 0/1 ints.
"""

from __future__ import annotations

from pythonosc.osc_message_builder import OscMessageBuilder

from sheetsync.events import Position

STATES = ("following", "lost", "stopped", "end")

# suffix -> (type tags, argument names), the table of the README
ADDRESSES = {
    "position": ("iiffifff", "page system x y measure confidence progress measure_position"),
    "page": ("ii", "page early"),
    "measure": ("i", "measure"),
    "tempo": ("f", "measures_per_minute"),
    "state": ("s", "state"),
    "time": ("f", "seconds"),
}
CONTROLS = ("start", "stop", "reset", "page")

Message = tuple[str, str, tuple]


class Messages:
    """Builds the messages under one prefix (e.g. `/sheetsync`), with plain Python values."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def _message(self, suffix: str, *args) -> Message:
        return f"{self.prefix}/{suffix}", ADDRESSES[suffix][0], args

    def position(self, p: Position) -> Message:
        measure_position = getattr(p, "measure_position", None)
        return self._message("position", int(p.page), int(p.system), float(p.x), float(p.y),
                             _measure(p.measure), float(p.confidence), float(p.progress),
                             0.0 if measure_position is None else float(measure_position))

    def time(self, p: Position) -> Message:
        return self._message("time", float(p.time))

    def page(self, page: int, early: bool) -> Message:
        return self._message("page", int(page), int(bool(early)))

    def measure(self, measure: int | None) -> Message:
        return self._message("measure", _measure(measure))

    def tempo(self, tempo: float) -> Message:
        return self._message("tempo", float(tempo))

    def state(self, state: str) -> Message:
        assert state in STATES, state
        return self._message("state", state)


def _measure(measure) -> int:
    return 0 if measure is None else int(measure)


def encode(message: Message) -> bytes:
    """The OSC 1.0 datagram of one message."""
    address, tags, args = message
    builder = OscMessageBuilder(address=address)
    for tag, value in zip(tags, args, strict=True):
        builder.add_arg(value, tag)
    return builder.build().dgram
