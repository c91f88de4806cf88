"""One OSC session: decides what to send for each event, and owns the sender and listener threads."""

from __future__ import annotations

import logging

from sheetsync.events import Position
from sheetsync_osc.listener import ControlListener
from sheetsync_osc.messages import Messages
from sheetsync_osc.sender import Sender

log = logging.getLogger(__name__)

LOST_BELOW = 0.3  # confidence under which a frame counts as lost ...
LOST_AFTER = 10  # ... and this many such frames in a row (half a second) make the state "lost"


class OscAdapter:
    """Turns follower events into OSC messages; `listen` (an Endpoint or None) enables control in."""

    def __init__(self, endpoints, prefix: str, control, rate: float | None = None, changes_only: bool = False,
                 listen=None):
        self.messages = Messages(prefix)
        self.sender = Sender(endpoints) if endpoints else None
        self.rate, self.changes_only = rate, changes_only
        self.listener = ControlListener(listen, prefix, control, self._command) if listen else None
        self.state = None
        self._held = False
        self._low_frames = 0
        self._tempo = None
        self._last_sent = self._next_due = None

    def start(self) -> None:
        for worker in (self.sender, self.listener):
            if worker is not None:
                worker.start()

    def close(self) -> None:
        """Send what is queued, stop both threads, release the sockets."""
        if self.listener is not None:
            self.listener.close()
        if self.sender is not None:
            self.sender.close()

    def _send(self, message) -> None:
        if self.sender is not None:
            self.sender.send(message)

    def position(self, p: Position) -> None:
        """Every frame: the state and tempo when they change, /position and /time unless rate-limited."""
        self._set_state(self._state_for(p))
        tempo = getattr(p, "tempo", None)
        rounded = None if tempo is None else round(float(tempo), 2)
        if rounded is not None and rounded != self._tempo:
            self._send(self.messages.tempo(rounded))
        self._tempo = rounded
        if not self.changes_only and self._due(p.time):
            self._send(self.messages.position(p))
            self._send(self.messages.time(p))

    def measure(self, p: Position) -> None:
        self._send(self.messages.measure(p.measure))

    def page(self, page: int, early: bool) -> None:
        self._send(self.messages.page(page, early))

    def end(self, reason: str) -> None:
        self._held = False
        self._set_state("end" if reason == "end" else "stopped")
        self.close()

    def _state_for(self, p: Position) -> str:
        if self._held:
            return "stopped"
        self._low_frames = self._low_frames + 1 if p.confidence < LOST_BELOW else 0
        return "lost" if self._low_frames >= LOST_AFTER else "following"

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._send(self.messages.state(state))

    def _due(self, time: float) -> bool:
        if self.rate is None:
            return True
        if self._last_sent is not None and self._last_sent <= time < self._next_due - 1e-6:
            return False
        self._last_sent, self._next_due = time, time + 1.0 / self.rate
        return True

    def _command(self, command: str) -> None:
        """From the listener thread: a stop holds the state at "stopped" until a start."""
        if command == "stop":
            self._held = True
            self._set_state("stopped")
        elif command == "start":
            self._held = False
