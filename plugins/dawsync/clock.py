"""MIDI clock (24 ticks per quarter note), Song Position Pointer and Start/Continue/Stop on a thread of its own.

Ticks are scheduled on the monotonic clock at absolute times (each due time is the previous due time plus
one tick at the current tempo), so sleeping late never accumulates into drift. The tick tempo glides
towards the tempo asked for (time constant GLIDE_SECONDS), so tempo changes never step.

Song Position counts sixteenth notes, so a start or a relocation points at the next sixteenth after the
performer and sends Continue (or Start) just before the performer gets there: the DAW starts in phase.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque

import mido

from sheetsync_midi.ports import RetryingOutput

log = logging.getLogger(__name__)
PPQ = 24
START_LEAD_SECONDS = 0.002  # Start/Continue goes out this long before the first tick
GLIDE_SECONDS = 0.25
RETRY_SECONDS = 2.0
LATE_RESET_SECONDS = 0.1  # further behind than this (a stalled machine), the clock restarts from now
MAX_SPP = 16383  # 14 bits of sixteenth notes


class MidiClock:
    """A MIDI clock master on the output `spec` (shared through SharedOutput, opened when the thread starts)."""

    def __init__(self, spec: str):
        self.spec = spec
        self.tick_times: deque[float] = deque(maxlen=100_000)  # monotonic send times, for measurements
        self._commands: queue.Queue = queue.Queue(64)
        self._lock = threading.Lock()
        self._target_bpm = 120.0
        self._bpm = 120.0
        self._running = False
        self._origin = 0.0  # the beat the DAW was sent to (by Start or Song Position)
        self._ticks = 0  # ticks since then
        self._last_tick = 0.0
        self._due = 0.0
        self._resume: str | None = None  # "start" or "continue" still to send before the first tick
        self._output = RetryingOutput(spec, "MIDI clock", RETRY_SECONDS)
        self._resync = False
        self._thread = threading.Thread(target=self._run, name=f"sheetsync-clock {spec}", daemon=True)
        self._thread.start()

    # ---- from any thread ----

    def start(self, beat: float, bpm: float) -> None:
        """Start the DAW at `beat` (Start at the very beginning, else Song Position and Continue)."""
        self._command(("start", beat, bpm, time.monotonic()))

    def locate(self, beat: float, bpm: float) -> None:
        """After a jump: Stop, Song Position, Continue."""
        self._command(("locate", beat, bpm, time.monotonic()))

    def set_tempo(self, bpm: float) -> None:
        """The tempo the ticks glide to (cheap; for every frame)."""
        with self._lock:
            self._target_bpm = bpm

    def beat_now(self) -> float | None:
        """Where the DAW is now, in quarter-note beats (None when stopped)."""
        with self._lock:
            if not self._running:
                return None
            if self._ticks == 0:  # waiting for the first tick at _due
                return self._origin - (self._due - time.monotonic()) * self._bpm / 60.0
            since = (time.monotonic() - self._last_tick) * self._bpm / 60.0
            return self._origin + (self._ticks - 1) / PPQ + min(since, 1.0 / PPQ)

    def close(self, timeout: float = 5.0) -> None:
        """Send Stop, give the port back and end the thread."""
        try:
            self._commands.put(("quit",), timeout=timeout)
        except queue.Full:
            log.error("MIDI clock %s is stuck; leaving it", self.spec)
        self._thread.join(timeout)

    def _command(self, command) -> None:
        try:
            self._commands.put_nowait(command)
        except queue.Full:
            log.warning("MIDI clock %s: too many transport commands; dropping %s", self.spec, command[0])

    # ---- the clock thread ----

    def _run(self) -> None:
        try:
            self._open_port()  # now, so that the first start is on time
            while True:
                if self._resume:
                    timeout = max(0.0, self._due - START_LEAD_SECONDS - time.monotonic())
                else:
                    timeout = max(0.0, self._due - time.monotonic()) if self._running else None
                try:
                    command = self._commands.get(timeout=timeout)
                except queue.Empty:
                    if self._resume:
                        self._send(mido.Message(self._resume))
                        self._resume = None
                    else:
                        self._tick()
                    continue
                if command[0] == "quit":
                    break
                self._transport(*command)
        finally:
            if self._running:
                self._send(mido.Message("stop"))
            self._output.release()

    def _transport(self, kind: str, beat: float, bpm: float, issued: float) -> None:
        """Song Position at the performer's next sixteenth; Start/Continue and the ticks when it is reached."""
        if kind == "locate" and self._running and self._resume is None:
            self._send(mido.Message("stop"))
        self._open_port()  # opening takes time: the performer's beat is taken after it
        now = time.monotonic()
        beat = max(0.0, beat + (now - issued) * bpm / 60.0)
        sixteenth = min(MAX_SPP, math.ceil((beat - 1.0 / PPQ) * 4))  # less than a tick past one: that one
        self._send(mido.Message("songpos", pos=sixteenth))
        self._resume = "start" if kind == "start" and sixteenth == 0 else "continue"
        with self._lock:
            self._running = True
            self._origin, self._ticks, self._last_tick = sixteenth / 4.0, 0, now
            self._bpm = self._target_bpm = bpm
            self._due = now + max(0.0, sixteenth / 4.0 - beat) * 60.0 / bpm

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._due > LATE_RESET_SECONDS:
            self._due = now
        if self._resync and self._open_port() is not None:
            self._resync = False
            self._transport("locate", self.beat_now() or 0.0, self._bpm, now)
            return
        self._send(mido.Message("clock"))
        with self._lock:
            self._ticks += 1
            self._last_tick = now
            interval = 60.0 / (self._bpm * PPQ)
            self._bpm += (self._target_bpm - self._bpm) * (1.0 - math.exp(-interval / GLIDE_SECONDS))
        self.tick_times.append(now)
        self._due += interval

    def _send(self, message: mido.Message) -> None:
        self._open_port()
        self._output.send(message)

    def _open_port(self):
        was_open = self._output.port is not None
        port = self._output.open()
        if port is not None and not was_open:
            self._resync = self._running  # a DAW that missed the start needs its position again
        return port
