"""Built-in plugin: a one-line live status on the terminal (page, measure, confidence) when stderr is a TTY."""

from __future__ import annotations

import sys

from sheetsync.hookspecs import hookimpl

_enabled = False


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--quiet", action="store_true", help="no live status line on the terminal")


@hookimpl
def sheetsync_configure(config):
    global _enabled
    _enabled = sys.stderr.isatty() and not config.args.quiet


@hookimpl
def sheetsync_position(position):
    if _enabled and position.frame % 4 == 0:
        measure = "-" if position.measure is None else position.measure
        sys.stderr.write(f"\r{position.time:7.2f}s  page {position.page}  system {position.system}  "
                         f"measure {measure:>4}  confidence {position.confidence:4.2f}   ")
        sys.stderr.flush()


@hookimpl
def sheetsync_session_end(session, reason):
    if _enabled:
        sys.stderr.write(f"\n{reason}\n")
