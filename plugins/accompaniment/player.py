"""The accompaniment's own thread: a playhead (in ticks) that follows the soloist and sends the notes it passes.

The playhead moves at the soloist's tempo plus a correction that closes the gap to the soloist within
about `settle` seconds (a phase-locked loop, so tempo changes are smooth: no skipped or crammed notes),
never runs more than `lead` beats ahead of them, and stops when they stop (a fermata: sounding notes are
held, and released after `release_after` seconds). A confirmed jump re-locates it: sounding notes stop
and playing continues from the new place. The thread sleeps on the monotonic clock until the next note
is due or a position arrives.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import deque

import mido

from sheetsync_accompaniment.barmap import BarMap
from sheetsync_accompaniment.midifile import Accompaniment
from sheetsync_accompaniment.soloist import Soloist

log = logging.getLogger(__name__)
RETRY = 2.0  # seconds between attempts to open a port that is not there
NOTE_OFF, CONTROL, NOTE_ON = 0, 1, 2  # order of events at the same tick: offs first, so repeated notes sound


class Player:
    """Plays `accompaniment` in step with the positions given to `feed`, on the port `connect()` opens
    (tried again every `RETRY` seconds while it fails)."""

    def __init__(self, accompaniment: Accompaniment, connect, bar_map: BarMap | None = None,
                 min_confidence: float = 0.0, settle: float = 0.2, lead: float = 0.05, release_after: float = 6.0,
                 tick: float = 0.02):
        self.accompaniment, self.connect = accompaniment, connect
        self.port = None
        self.next_connect = 0.0
        self.bar_map = bar_map or BarMap()
        self.min_confidence = min_confidence
        self.settle, self.lead_ticks = settle, lead * accompaniment.ticks_per_beat
        self.release_after, self.max_sleep = release_after, tick
        self.soloist = Soloist(accompaniment.ticks_per_beat)
        self.soloist.fallback = accompaniment.ticks_per_second(0)
        self.events = _events(accompaniment)
        self.event_ticks = [event[0] for event in self.events]
        self.playhead: float | None = None
        self.rate = 0.0  # the playhead's speed, ticks per second
        self.next_event = 0
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, note) -> index of the note sounding there
        self.inbox: deque = deque(maxlen=256)
        self.wake = threading.Event()
        self.stopping = False
        self.send_failed = False
        self.thread = threading.Thread(target=self._run, name="sheetsync-accompaniment", daemon=True)

    def start(self) -> None:
        """Open the port (or plan to retry) and start the thread."""
        self._connect(time.monotonic())
        self.thread.start()

    def feed(self, arrived: float, measure_position: float | None, tempo: float | None, confidence: float) -> None:
        """A position from the follower (the hot path: store and wake the thread)."""
        self.inbox.append((arrived, measure_position, tempo, confidence))
        self.wake.set()

    def stop(self) -> None:
        """Stop the thread and silence every note this player started."""
        self.stopping = True
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        self._all_off()

    def _run(self) -> None:
        last = time.monotonic()
        while not self.stopping:
            if self.port is None and last >= self.next_connect:
                self._connect(last)
            now = time.monotonic()
            self.step(now, now - last)
            last = now
            self.wake.wait(self._sleep(now))
            self.wake.clear()

    def step(self, now: float, elapsed: float) -> None:
        """Take in the positions that arrived and move the playhead by `elapsed` seconds, sending the
        events it passes (the thread's work; callable directly with a simulated clock)."""
        self._read_inbox()
        self._advance(now, elapsed)

    def _read_inbox(self) -> None:
        while self.inbox:
            arrived, measure_position, tempo, confidence = self.inbox.popleft()
            if measure_position is None or confidence < self.min_confidence:
                continue
            bar = self.bar_map.to_bar(measure_position)
            if bar is None or bar > self.accompaniment.bars + 1:
                continue
            tick = self.accompaniment.tick_at(bar)
            reported = None
            if tempo:  # measures per minute -> ticks per second, with this bar's length
                reported = tempo * self.accompaniment.bar_length(tick) / 60
            relocate = self.soloist.update(arrived, tick, reported)
            if relocate is not None:
                self._relocate(relocate)

    def _relocate(self, tick: float) -> None:
        self._all_off()
        self.playhead = tick
        self.next_event = bisect.bisect_left(self.event_ticks, tick - 1e-6)
        self._chase_controls(tick)

    def _advance(self, now: float, elapsed: float) -> None:
        soloist = self.soloist.now(now)
        if self.playhead is None or soloist is None:
            return
        if self.soloist.stalled_for(now) > self.release_after:
            self._all_off()
        # move at the speed the next note was scheduled with, then steer towards the soloist
        self.playhead = min(self.playhead + self.rate * elapsed, max(soloist + self.lead_ticks, self.playhead))
        self.rate = max(self.soloist.rate + (soloist - self.playhead) / self.settle, 0.0)
        while self.next_event < len(self.events) and self.events[self.next_event][0] <= self.playhead + 1e-6:
            self._play(self.events[self.next_event])
            self.next_event += 1

    def _sleep(self, now: float) -> float:
        """Seconds until the next event is due at the current rate (at most `max_sleep`)."""
        rate = self.rate
        if self.playhead is None or rate <= 0 or self.next_event >= len(self.events):
            return self.max_sleep
        due = (self.events[self.next_event][0] - self.playhead) / rate
        return min(max(due, 0.0), self.max_sleep)

    def _play(self, event) -> None:
        _, kind, index, message = event
        key = (message.channel, getattr(message, "note", -1))
        if kind == NOTE_ON:
            if key in self.sounding:  # the same key still sounds (overlap): end it before striking again
                self._send(mido.Message("note_off", channel=key[0], note=key[1]))
            self.sounding[key] = index
            self._send(message)
        elif kind == NOTE_OFF:
            if self.sounding.get(key) == index:  # only the note that is sounding, not one already cut
                del self.sounding[key]
                self._send(message)
        else:
            self._send(message)

    def _chase_controls(self, tick: float) -> None:
        """Send the last program change of each channel before `tick`, so a jump keeps the instruments."""
        programs = {}
        for at, message in self.accompaniment.controls:
            if at >= tick:
                break
            if message.type == "program_change":
                programs[message.channel] = message
        for message in programs.values():
            self._send(message)

    def _all_off(self) -> None:
        for channel, note in list(self.sounding):
            self._send(mido.Message("note_off", channel=channel, note=note))
        self.sounding.clear()

    def _connect(self, now: float) -> None:
        try:
            self.port = self.connect()
        except Exception as error:  # e.g. the synth is not started yet: keep time, try again
            if not self.send_failed:
                log.warning("accompaniment: %s; trying again every %.0f s", error, RETRY)
            self.send_failed = True
            self.next_connect = now + RETRY

    def _send(self, message) -> None:
        if self.port is None:
            return
        try:
            self.port.send(message)
            self.send_failed = False
        except Exception as error:  # a vanished port must not stop the accompaniment's clock
            if not self.send_failed:
                log.warning("accompaniment: cannot send to the MIDI port (%s); still trying", error)
            self.send_failed = True


def _events(accompaniment: Accompaniment) -> list[tuple[int, int, int, mido.Message]]:
    """(tick, kind, note index, message), sorted: every note as an on and an off, and the other messages."""
    events = []
    for index, note in enumerate(accompaniment.notes):
        events.append((note.start, NOTE_ON, index,
                       mido.Message("note_on", channel=note.channel, note=note.note, velocity=note.velocity)))
        events.append((note.end, NOTE_OFF, index, mido.Message("note_off", channel=note.channel, note=note.note)))
    events.extend((tick, CONTROL, -1, message) for tick, message in accompaniment.controls)
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events
