"""The viewer's HTTP server (standard library only): the page, its files, the page images, a server-sent
event stream and the key presses coming back.

Routes: `GET /` the viewer page, `GET /static/NAME` its files, `GET /session` the score as JSON,
`GET /pages/N.png` page N, `GET /events` the event stream (`session`, `view`, `position`, `end`),
`POST /action` a JSON `{"action": ...}` from a key press.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from sheetsync.errors import SheetsyncError

from sheetsync_viewer.hub import Hub

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
KEEPALIVE_S = 15.0  # a comment line this often finds closed tabs and keeps proxies from timing out
PAGE_PATH = re.compile(r"/pages/(\d+)\.png")


class ActionError(Exception):
    """A key press the server cannot carry out; the message goes back to the browser."""


class ViewerServer(ThreadingHTTPServer):
    """Serves one session's viewer. Binds on creation; `start` serves from a thread, `stop` ends every
    connection and releases the port."""

    daemon_threads = False  # stop() joins the request threads: none outlives the session
    block_on_close = True

    def __init__(self, address: tuple[str, int], hub: Hub, act: Callable[[dict], dict]):
        self.hub, self.act = hub, act
        self.session_json = "{}"
        self.images: dict[int, bytes] = {}
        self._thread: threading.Thread | None = None
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        try:
            super().__init__(address, ViewerHandler)
        except OSError as error:
            raise SheetsyncError(f"viewer: cannot listen on {address[0]}:{address[1]}: {error.strerror or error}")
        self.loopback = _is_loopback(self.server_address[0])

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        """Serve from a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.1,), name="sheetsync-viewer",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the event streams, stop serving, wait for the request threads and release the port."""
        self.hub.close()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


class ViewerHandler(BaseHTTPRequestHandler):
    """One request (HTTP/1.0: one request per connection, so no thread waits on an idle keep-alive)."""

    server: ViewerServer
    timeout = 5  # seconds a silent or stalled client may hold its thread
    server_version = "sheetsync-viewer"

    def do_GET(self):
        if not self._host_allowed():
            return
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send_file(STATIC / "index.html")
        elif path.startswith("/static/") and "/" not in path[8:] and path[8:] in _static_names():
            self._send_file(STATIC / path[8:])
        elif path == "/session":
            self._send(HTTPStatus.OK, "application/json", self.server.session_json.encode())
        elif (match := PAGE_PATH.fullmatch(path)) and int(match[1]) in self.server.images:
            self._send(HTTPStatus.OK, "image/png", self.server.images[int(match[1])], cache="max-age=3600")
        elif path == "/events":
            self._stream_events()
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

    def do_POST(self):
        if not self._host_allowed():
            return
        if self.path != "/action":
            return self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
        origin = self.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != self.headers.get("Host"):
            return self._send(HTTPStatus.FORBIDDEN, "text/plain", b"cross-origin request refused")
        if self.headers.get_content_type() != "application/json":  # so other sites' forms cannot post here
            return self._send(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "text/plain", b"send application/json")
        try:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(min(length, 4096)) or b"{}")
            if not isinstance(request, dict):
                raise ActionError("send a JSON object")
            reply = self.server.act(request)
        except (ValueError, ActionError) as error:
            return self._send(HTTPStatus.BAD_REQUEST, "application/json", json.dumps({"error": str(error)}).encode())
        self._send(HTTPStatus.OK, "application/json", json.dumps(reply).encode())

    def _stream_events(self):
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = 0
        try:
            self.wfile.write(b"retry: 2000\n\n")
            while (news := self.server.hub.wait(seen, KEEPALIVE_S)) is not None:
                events, seen = news
                chunk = "".join(f"event: {name}\ndata: {data}\n\n" for name, data in events) or ": keepalive\n\n"
                self.wfile.write(chunk.encode())
                self.wfile.flush()
        except OSError as error:  # the tab was closed or stalled: that stream ends, following goes on
            log.debug("viewer: event stream to %s ended: %s", self.client_address[0], error)

    def _host_allowed(self) -> bool:
        """On loopback, only requests addressed to a loopback name (a web page cannot rebind a DNS name
        to 127.0.0.1 and read the viewer)."""
        if not self.server.loopback:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        if host == "localhost" or _is_loopback(host):
            return True
        self._send(HTTPStatus.FORBIDDEN, "text/plain", b"the viewer answers only to localhost")
        return False

    def _send_file(self, path: Path):
        self._send(HTTPStatus.OK, TYPES.get(path.suffix, "application/octet-stream"), path.read_bytes())

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, cache: str = "no-store"):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.end_headers()
            self.wfile.write(body)
        except OSError as error:
            log.debug("viewer: reply to %s lost: %s", self.client_address[0], error)

    def log_message(self, format, *args):  # the terminal belongs to the status line
        log.debug("viewer: %s %s", self.client_address[0], format % args)


def _static_names() -> set[str]:
    return {path.name for path in STATIC.iterdir() if path.is_file()}


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """`PORT`, `HOST:PORT` or `[IPV6]:PORT` as (host, port); loopback unless a host is given."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if sep else default_host
    if not port.isdigit() or not 0 <= int(port) <= 65535 or (sep and not host):
        raise SheetsyncError(f"--viewer: '{text}' is not [HOST:]PORT (e.g. 8765 or 0.0.0.0:8765)")
    return host, int(port)
