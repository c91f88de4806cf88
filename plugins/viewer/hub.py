"""The latest state of each kind of event, pushed to every connected browser.

The follower publishes 20 positions a second; a browser only needs the newest
one. So the hub keeps the last event of each name with a version number, and
each stream waits (on a condition, no polling) for versions it has not sent.
A slow or closed browser tab therefore never holds up the publisher: nothing
queues up, and the publisher never touches a socket.
"""

from __future__ import annotations

import threading


class Hub:
    """Latest event per name, with waiting for news."""

    def __init__(self):
        self._condition = threading.Condition()
        self._events: dict[str, tuple[int, str]] = {}
        self._version = 0
        self._closed = False

    def publish(self, name: str, data: str) -> None:
        """Make `data` (a JSON text) the latest `name` event and wake the streams."""
        with self._condition:
            self._version += 1
            self._events[name] = (self._version, data)
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> tuple[list[tuple[str, str]], int] | None:
        """Events newer than version `seen`, oldest first, and the version now; an empty list after `timeout`
        seconds without news; None once the hub is closed and everything was delivered."""
        with self._condition:
            self._condition.wait_for(lambda: self._version > seen or self._closed, timeout)
            news = sorted((version, name, data) for name, (version, data) in self._events.items() if version > seen)
            if not news and self._closed:
                return None
            return [(name, data) for _, name, data in news], self._version

    def close(self) -> None:
        """Wake every stream for the last time; they end once they have sent what is left."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
