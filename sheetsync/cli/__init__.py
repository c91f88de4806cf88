"""The `sheetsync` command: one subcommand per job, each defined in its own module."""

from __future__ import annotations

import argparse
import logging
import sys

from sheetsync import __version__
from sheetsync.errors import SheetsyncError
from sheetsync.cli import bench, data, evaluate, follow, plugins, train

COMMANDS = (follow, train, evaluate, data, bench, plugins)

DESCRIPTION = """\
Follow a music performance on full sheet-music pages.

sheetsync reads the printed page (a PDF or page images) while it listens to a
recording or a live microphone, and reports many times a second where on which
page the music is, to the terminal, to files, and to plugins (OSC, MIDI, DAWs,
a page-turning viewer).
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, every subcommand included."""
    parser = argparse.ArgumentParser(
        prog="sheetsync",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sheetsync {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeatable)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="sheetsync: %(levelname)s: %(message)s",
    )
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except SheetsyncError as error:
        print(f"sheetsync: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("sheetsync: interrupted", file=sys.stderr)
        return 130
