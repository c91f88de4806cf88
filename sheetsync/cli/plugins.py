"""`sheetsync plugins`: list installed plugins and their options."""

from __future__ import annotations

from sheetsync.cli._common import add_command
from sheetsync.errors import SheetsyncError

DESCRIPTION = """\
List the installed plugins (entry-point group `sheetsync`), whether each is
active, and the options each adds to `sheetsync follow`.
"""


def register(subparsers) -> None:
    parser = add_command(subparsers, "plugins", "list installed plugins", DESCRIPTION)
    parser.set_defaults(run=run)


def run(args) -> int:
    raise SheetsyncError("`sheetsync plugins` is not built yet (issue #4: the follower)")
