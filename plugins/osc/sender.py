"""A thread that encodes and sends OSC messages over UDP, fed through a bounded queue.

The hot path only puts a small tuple on the queue. When the queue is full (a stalled network) the oldest message
is dropped. A target that fails (unreachable host, no network) is logged once and tried again with every
message; nothing here ever raises into the follower.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading

from sheetsync_osc.addresses import Endpoint
from sheetsync_osc.messages import Message, encode

log = logging.getLogger(__name__)
_STOP = object()


class Sender:
    """Sends every message to every endpoint, from its own thread."""

    def __init__(self, endpoints: list[Endpoint], maxsize: int = 512):
        self.endpoints = endpoints
        self.queue: queue.Queue = queue.Queue(maxsize)
        self.sent = self.dropped = 0
        self._sockets = {family: socket.socket(family, socket.SOCK_DGRAM)
                         for family in {endpoint.family for endpoint in endpoints}}
        self._failing: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="sheetsync-osc-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, message: Message) -> None:
        """Queue a message (cheap; never blocks)."""
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            self._drop_oldest()
            try:
                self.queue.put_nowait(message)
            except queue.Full:
                pass

    def _drop_oldest(self) -> None:
        try:
            self.queue.get_nowait()
        except queue.Empty:
            return
        self.dropped += 1
        if self.dropped == 1:
            log.warning("OSC: sending falls behind; dropping the oldest queued messages")

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued, stop the thread and close the sockets."""
        if self._thread.is_alive():
            try:
                self.queue.put(_STOP, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(timeout)
        for sock in self._sockets.values():
            sock.close()

    def _run(self) -> None:
        while (message := self.queue.get()) is not _STOP:
            try:
                datagram = encode(message)
            except Exception as error:  # a value python-osc refuses: a bug, logged, never fatal
                log.error("OSC: cannot encode %s: %s", message, error)
                continue
            for endpoint in self.endpoints:
                self._send_to(endpoint, datagram)

    def _send_to(self, endpoint: Endpoint, datagram: bytes) -> None:
        try:
            self._sockets[endpoint.family].sendto(datagram, endpoint.sockaddr)
        except OSError as error:
            if endpoint.spec not in self._failing:
                self._failing.add(endpoint.spec)
                log.warning("OSC: cannot send to %s: %s (will keep trying)", endpoint, error.strerror or error)
            return
        self.sent += 1
        if endpoint.spec in self._failing:
            self._failing.discard(endpoint.spec)
            log.warning("OSC: sending to %s again", endpoint)
