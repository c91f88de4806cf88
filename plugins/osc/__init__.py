"""sheetsync adapter: positions out over OSC (`--osc HOST:PORT`) and control in (`--osc-listen`), for Max/MSP,
Pd and any OSC receiver. See README.md in this folder for the addresses."""

from __future__ import annotations

from sheetsync import hookimpl
from sheetsync.errors import SheetsyncError
from sheetsync_osc.adapter import OscAdapter
from sheetsync_osc.addresses import LISTEN_HOST, LISTEN_PORT, SEND_PORT, parse_endpoint, parse_prefix

_adapter: OscAdapter | None = None


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--osc", action="append", default=[], metavar="HOST:PORT",
                        help=f"send positions over OSC/UDP to HOST:PORT (port {SEND_PORT} when only a host is "
                             "given; repeatable)")
    parser.add_argument("--osc-prefix", default="/sheetsync", metavar="/PREFIX",
                        help="OSC address prefix (default /sheetsync)")
    parser.add_argument("--osc-rate", type=float, metavar="HZ",
                        help="send /position and /time at most HZ times a second of audio (default: every frame)")
    parser.add_argument("--osc-changes-only", action="store_true",
                        help="send only the change messages (page, measure, tempo, state), no per-frame ones")
    parser.add_argument("--osc-listen", nargs="?", const=f"{LISTEN_HOST}:{LISTEN_PORT}", metavar="[HOST:]PORT",
                        help=f"accept OSC control commands (start, stop, reset, page N) on UDP; without a value "
                             f"{LISTEN_HOST}:{LISTEN_PORT} (off unless given)")


@hookimpl
def sheetsync_configure(config):
    global _adapter
    if _adapter is not None:  # left from an earlier session in this process that never started
        _adapter.close()
        _adapter = None
    args = config.args
    if not args.osc and not args.osc_listen:
        return
    if args.osc_rate is not None and not args.osc_rate > 0:
        raise SheetsyncError(f"--osc-rate {args.osc_rate:g}: must be a positive number of messages a second")
    endpoints = [parse_endpoint(spec, "--osc", LISTEN_HOST, SEND_PORT) for spec in args.osc]
    listen = parse_endpoint(args.osc_listen, "--osc-listen", LISTEN_HOST, LISTEN_PORT) if args.osc_listen else None
    _adapter = OscAdapter(endpoints, parse_prefix(args.osc_prefix), config.control, rate=args.osc_rate,
                          changes_only=args.osc_changes_only, listen=listen)


@hookimpl
def sheetsync_session_start(session):
    if _adapter is not None:
        _adapter.start()


@hookimpl
def sheetsync_position(position):
    if _adapter is not None:
        _adapter.position(position)


@hookimpl
def sheetsync_measure(position):
    if _adapter is not None:
        _adapter.measure(position)


@hookimpl
def sheetsync_page_turn(page, position, early):
    if _adapter is not None:
        _adapter.page(page, early)


@hookimpl
def sheetsync_session_end(session, reason):
    global _adapter
    if _adapter is not None:
        _adapter.end(reason)
        _adapter = None
