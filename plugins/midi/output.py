"""The MIDI sending thread: a bounded queue from the hot path, note-offs on time, nothing left sounding."""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time

import mido

from sheetsync_midi.cuefile import Action
from sheetsync_midi.ports import RetryingOutput

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
_CLOSE = object()


class MidiSender:
    """Sends actions on the shared output `spec` from its own thread.

    The port is acquired on the first message and given back at `close`; while it cannot be opened or
    sending fails, messages are dropped, the problem is logged once, and the port is tried again every
    RETRY_SECONDS. Every note-on it sends gets its note-off: after its duration, when the same note is
    struck again, or at `close`.
    """

    def __init__(self, spec: str, queue_size: int = 256):
        self.spec = spec
        self.sent = 0  # messages that went out
        self._queue: queue.Queue = queue.Queue(queue_size)
        self._output = RetryingOutput(spec, "MIDI output", RETRY_SECONDS)
        self._overflowed = False
        self._sounding: dict[tuple[int, int], int] = {}  # (channel, note) -> generation of its note-on
        self._offs: list[tuple[float, int, tuple[int, int]]] = []  # (due, generation, key)
        self._generation = 0
        self._thread = threading.Thread(target=self._run, name=f"sheetsync-midi {spec}", daemon=True)
        self._thread.start()

    def send(self, actions: list[Action]) -> None:
        """Queue actions without blocking (the hot path); a full queue drops them and says so once."""
        if not actions:
            return
        try:
            self._queue.put_nowait(actions)
        except queue.Full:
            if not self._overflowed:
                log.warning("MIDI output %s is not keeping up; dropping messages", self.spec)
                self._overflowed = True

    def close(self, timeout: float = 5.0) -> None:
        """Release every sounding note, give the port back and end the thread."""
        try:
            self._queue.put(_CLOSE, timeout=timeout)
        except queue.Full:
            log.error("MIDI output %s did not drain; closing anyway", self.spec)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                wait = max(0.0, self._offs[0][0] - time.monotonic()) if self._offs else None
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    item = None
                self._due_offs()
                if item is _CLOSE:
                    break
                for action in item or ():
                    self._do(action)
        finally:
            for channel, note in list(self._sounding):
                self._note_off(channel, note)
            self._output.release()

    def _due_offs(self) -> None:
        now = time.monotonic()
        while self._offs and self._offs[0][0] <= now:
            _, generation, key = heapq.heappop(self._offs)
            if self._sounding.get(key) == generation:
                self._note_off(*key)

    def _do(self, action: Action) -> None:
        message = action.message
        if message.type == "note_on":
            key = (message.channel, message.note)
            if key in self._sounding:
                self._note_off(*key)
            if self._emit(message):
                self._generation += 1
                self._sounding[key] = self._generation
                if action.duration is not None:
                    heapq.heappush(self._offs, (time.monotonic() + action.duration, self._generation, key))
        elif message.type == "note_off":
            if (message.channel, message.note) in self._sounding:  # only notes this sender started
                self._note_off(message.channel, message.note)
        else:
            self._emit(message)

    def _note_off(self, channel: int, note: int) -> None:
        del self._sounding[(channel, note)]
        self._emit(mido.Message("note_off", channel=channel, note=note))

    def _emit(self, message: mido.Message) -> bool:
        if not self._output.send(message):
            return False
        self.sent += 1
        return True
