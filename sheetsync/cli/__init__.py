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


_manager = None


def current_plugin_manager():
    """The plugin manager the parser was built with."""
    return _manager


def _plugin_specs(argv: list[str]) -> list[str]:
    """The -p/--plugin values, found before parsing so that plugins can add their own options."""
    specs = []
    for i, arg in enumerate(argv):
        if arg in ("-p", "--plugin") and i + 1 < len(argv):
            specs.append(argv[i + 1])
        elif arg.startswith("--plugin="):
            specs.append(arg.split("=", 1)[1])
        elif arg.startswith("-p") and len(arg) > 2:
            specs.append(arg[2:])
    return specs


def build_parser(plugin_specs: list[str] = ()) -> argparse.ArgumentParser:
    """The full argument parser, every subcommand included (plugins add options to `follow`)."""
    global _manager
    from sheetsync.plugins import plugin_manager

    _manager = plugin_manager(list(plugin_specs))
    parser = argparse.ArgumentParser(
        prog="sheetsync",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sheetsync {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeatable)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in COMMANDS:
        command.register(subparsers, _manager)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser(_plugin_specs(argv))
    except SheetsyncError as error:
        print(f"sheetsync: error: {error}", file=sys.stderr)
        return error.exit_code
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
