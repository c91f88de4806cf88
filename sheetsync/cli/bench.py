"""`sheetsync bench`: measure the follower's per-frame latency on this machine."""

from __future__ import annotations

from sheetsync.cli._common import add_command
from sheetsync.errors import SheetsyncError

DESCRIPTION = """\
Measure the per-frame latency of the follower (median, p90, p99 ms) and its
real-time factor on this machine.
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "bench", "measure per-frame latency", DESCRIPTION)
    parser.add_argument("--checkpoint", metavar="PATH", help="model checkpoint (default: the shipped model)")
    parser.set_defaults(run=run)


def run(args) -> int:
    raise SheetsyncError("`sheetsync bench` is not built yet (issue #4: the follower)")
