"""Built-in plugin: `--jsonl FILE|-` writes one JSON position per frame."""

from __future__ import annotations

import json
import sys

from sheetsync.hookspecs import hookimpl

_stream = None


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--jsonl", metavar="FILE|-", help="write one JSON position per line to FILE (- for stdout)")


@hookimpl
def sheetsync_configure(config):
    global _stream
    target = config.args.jsonl
    _stream = None if not target else sys.stdout if target == "-" else open(target, "w", buffering=1)


@hookimpl
def sheetsync_position(position):
    if _stream is not None:
        _stream.write(json.dumps(position.to_dict()) + "\n")


@hookimpl
def sheetsync_session_end(session, reason):
    global _stream
    if _stream is not None:
        _stream.flush()
        if _stream is not sys.stdout:
            _stream.close()
    _stream = None
