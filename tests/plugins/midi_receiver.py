"""A real MIDI receiver for the adapters' tests: a virtual input port that records what arrives."""

from __future__ import annotations

import threading
import time

import mido
import rtmidi


class Receiver:
    """A virtual input port named `name` (on the API the tests' JACK server sets) that keeps every message
    with its arrival time (rtmidi's timestamps: monotonic seconds since the first message)."""

    def __init__(self, name: str):
        self.name = name
        self.events: list[tuple[float, mido.Message]] = []
        self._lock = threading.Lock()
        self._clock = 0.0
        self._in = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=f"{name}-client")
        self._in.ignore_types(sysex=True, timing=False, active_sense=True)
        self._in.set_callback(self._received)
        self._in.open_virtual_port(name)

    def _received(self, event, data=None) -> None:
        data, delta = event
        with self._lock:
            self._clock += delta
            self.events.append((self._clock, mido.Message.from_bytes(data)))

    def messages(self, kind: str | None = None) -> list[mido.Message]:
        with self._lock:
            return [m for _, m in self.events if kind is None or m.type == kind]

    def wait_for(self, condition, timeout: float = 3.0) -> bool:
        """Wait until `condition(messages)` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.messages()):
                return True
            time.sleep(0.01)
        return condition(self.messages())

    def close(self) -> None:
        self._in.close_port()
        self._in.delete()
