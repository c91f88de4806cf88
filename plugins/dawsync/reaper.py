"""Reaper through its native OSC (the default pattern file, Default.ReaperOSC):
`/time f` locates (seconds), `/playrate/raw f` sets the play rate (1.0 = as written), `/play` and `/stop`.

Reaper's project is taken to run at a constant `reference_bpm` with measure 1 at `offset` seconds, so a
beat maps to project seconds; the performer's tempo becomes a play rate (BPM / reference_bpm), leaving
the project's tempo map untouched. sheetsync keeps its own model of where Reaper is (the rate it sent,
integrated over time) to decide between bending the rate and relocating.
"""

from __future__ import annotations

import logging
import socket
import time

from pythonosc.osc_message_builder import OscMessageBuilder

from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)
MIN_RATE, MAX_RATE = 0.25, 4.0  # Reaper's play-rate range
RATE_STEP = 0.002  # smaller changes are not sent


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT (a bare PORT means 127.0.0.1)."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SheetsyncError(f"--reaper {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    try:
        address = socket.getaddrinfo(host or "127.0.0.1", int(port), socket.AF_INET, socket.SOCK_DGRAM)[0][4]
    except socket.gaierror as error:
        raise SheetsyncError(f"--reaper {text!r}: cannot resolve {host!r}: {error}") from error
    return address


def message(address: str, *floats: float) -> bytes:
    """An OSC message with float arguments, as bytes."""
    builder = OscMessageBuilder(address)
    for value in floats:
        builder.add_arg(float(value), OscMessageBuilder.ARG_TYPE_FLOAT)
    return builder.build().dgram


class ReaperSync:
    """Sends Reaper what it needs to follow: locate and play, rate changes, relocations, stop."""

    def __init__(self, address: tuple[str, int], steering, reference_bpm: float = 120.0, offset: float = 0.0):
        self.address, self.steering = address, steering
        self.reference_bpm, self.offset = reference_bpm, offset
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._playing = False
        self._rate = 1.0
        self._anchor = (0.0, 0.0)  # (beat, monotonic time) Reaper was at, from which it runs at _rate
        self._failing = False

    def seconds(self, beat: float) -> float:
        """Project time of `beat` at the reference tempo."""
        return self.offset + beat * 60.0 / self.reference_bpm

    def daw_beat(self, now: float) -> float:
        beat, since = self._anchor
        return beat + (now - since) * self._rate * self.reference_bpm / 60.0

    def position(self, position) -> None:
        beat, bpm = self.steering.beat(position), self.steering.tempo(position)
        if beat is None or bpm is None:
            return
        now = time.monotonic()
        if not self._playing:
            self._locate(beat, now)
            self._set_rate(bpm / self.reference_bpm, now, force=True)
            self._send("/play")
            self._playing = True
            return
        daw = self.daw_beat(now)
        if self.steering.is_jump(beat, daw):
            self._locate(beat, now)
        self._set_rate(self.steering.bend(bpm, beat, self.daw_beat(now)) / self.reference_bpm, now)

    def close(self) -> None:
        """Stop Reaper's transport, put the play rate back to 1 and close the socket."""
        if self._playing:
            self._send("/stop")
            self._send("/playrate/raw", 1.0)
            self._playing = False
        self._socket.close()

    def _locate(self, beat: float, now: float) -> None:
        self._send("/time", self.seconds(beat))
        self._anchor = (beat, now)

    def _set_rate(self, rate: float, now: float, force: bool = False) -> None:
        rate = round(min(MAX_RATE, max(MIN_RATE, rate)), 4)
        if not force and abs(rate - self._rate) < RATE_STEP:
            return
        self._anchor = (self.daw_beat(now), now)
        self._rate = rate
        self._send("/playrate/raw", rate)

    def _send(self, address: str, *floats: float) -> None:
        try:
            self._socket.sendto(message(address, *floats), self.address)
        except OSError as error:  # nobody listening, network down: keep following
            if not self._failing:
                log.warning("Reaper at %s:%d: %s; following goes on", *self.address, error)
                self._failing = True
            return
        self._failing = False
