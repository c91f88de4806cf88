"""Parsing `HOST:PORT` specs and OSC prefixes into checked, resolved values (clear errors on bad input)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from sheetsync.errors import SheetsyncError

SEND_PORT = 7400
LISTEN_HOST, LISTEN_PORT = "127.0.0.1", 7401
_RESERVED = set(" #*,?[]{}")


@dataclass(frozen=True)
class Endpoint:
    """A resolved UDP address: what the user wrote (for messages) and what the socket needs."""

    spec: str
    family: int
    sockaddr: tuple

    def __str__(self) -> str:
        return self.spec


def parse_endpoint(spec: str, option: str, default_host: str, default_port: int) -> Endpoint:
    """`HOST:PORT`, `HOST`, `PORT` or `[IPv6]:PORT`, resolved for UDP; SheetsyncError naming `option` if bad."""
    host, port = _split(spec.strip(), default_host, default_port)
    if not host:
        raise SheetsyncError(f"{option} {spec!r}: no host given")
    try:
        number = int(port)
    except ValueError:
        raise SheetsyncError(f"{option} {spec!r}: port {port!r} is not a number") from None
    if not 1 <= number <= 65535:
        raise SheetsyncError(f"{option} {spec!r}: port {number} is not between 1 and 65535")
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(host, number, type=socket.SOCK_DGRAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise SheetsyncError(f"{option} {spec!r}: cannot resolve host {host!r} ({error})") from None
    shown = f"[{host}]:{number}" if ":" in host else f"{host}:{number}"
    return Endpoint(shown, family, sockaddr)


def _split(spec: str, default_host: str, default_port: int) -> tuple[str, str]:
    if spec.isdigit():
        return default_host, spec
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else str(default_port)
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host or default_host, port
    return spec, str(default_port)


def parse_prefix(prefix: str) -> str:
    """An OSC address prefix such as `/sheetsync` (leading slash, no trailing one, no OSC pattern characters)."""
    cleaned = prefix.rstrip("/")
    if not cleaned.startswith("/") or len(cleaned) < 2:
        raise SheetsyncError(f"--osc-prefix {prefix!r}: must start with '/' and name something, e.g. /sheetsync")
    bad = sorted(set(cleaned) & _RESERVED)
    if bad:
        raise SheetsyncError(f"--osc-prefix {prefix!r}: OSC addresses may not contain {' '.join(bad)!r}")
    return cleaned
