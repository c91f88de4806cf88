"""Control in: a UDP server thread that turns OSC commands into requests on the engine's control channel.

    PREFIX/start      -> control.resume()   follow again after a stop
    (start, stop and reset also accept one number: 0 is ignored as a button's release, others act)
    PREFIX/stop       -> control.pause()    hold following (the session goes on until the audio ends or Ctrl-C)
    PREFIX/reset      -> control.reset()    forget what was heard, listen again from the first page
    PREFIX/page i     -> control.go_to_page(i)
"""

from __future__ import annotations

import logging
import socket
import threading

from pythonosc.osc_packet import OscPacket, ParseError

from sheetsync.errors import SheetsyncError
from sheetsync_osc.addresses import Endpoint

log = logging.getLogger(__name__)


class ControlListener:
    """Binds at construction (so a busy port is a clear error before following starts); serves on a thread."""

    def __init__(self, endpoint: Endpoint, prefix: str, control, on_command=None):
        self.endpoint, self.prefix, self.control = endpoint, prefix, control
        self.on_command = on_command or (lambda command: None)
        self.socket = socket.socket(endpoint.family, socket.SOCK_DGRAM)
        try:
            self.socket.bind(endpoint.sockaddr)
        except OSError as error:
            self.socket.close()
            raise SheetsyncError(f"--osc-listen {endpoint}: cannot listen there: {error.strerror or error}") from None
        self.socket.settimeout(0.1)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sheetsync-osc-listener", daemon=True)

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self.socket.close()

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                data, sender = self.socket.recvfrom(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                messages = [timed.message for timed in OscPacket(data).messages]
            except ParseError:
                log.warning("OSC control: ignoring a malformed packet from %s:%s", *sender[:2])
                continue
            for message in messages:
                self.handle(message.address, list(message.params))

    def handle(self, address: str, args: list) -> None:
        """Serve one control message (bundles are served at once, whatever their time tag)."""
        command = address[len(self.prefix) + 1:] if address.startswith(self.prefix + "/") else None
        if command in ("start", "stop", "reset") and args in ([0], [0.0]):
            return  # the release of a button that sent 1 when pressed (TouchOSC and the like)
        if command in ("start", "stop", "reset") and (not args or (len(args) == 1 and _number(args[0]))):
            request = {"start": self.control.resume, "stop": self.control.pause, "reset": self.control.reset}[command]
        elif command == "page" and len(args) == 1 and _whole(args[0]) and args[0] >= 1:
            request = lambda: self.control.go_to_page(int(args[0]))  # noqa: E731
        else:
            log.warning("OSC control: ignoring %s %s (expected %s/start, /stop, /reset or /page N)",
                        address, " ".join(map(str, args)), self.prefix)
            return
        log.info("OSC control: %s %s", address, " ".join(map(str, args)))
        self.on_command(command)  # first, so that the state is "stopped" before the engine pauses
        request()


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value) -> bool:
    return _number(value) and float(value).is_integer()
