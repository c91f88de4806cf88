"""`sheetsync follow`: follow a performance on a score (the follower issue fills this in)."""

from __future__ import annotations

from sheetsync.cli._common import add_command
from sheetsync.errors import SheetsyncError

DESCRIPTION = """\
Follow a performance on a score and report the position many times a second.

examples:
  sheetsync follow piece.pdf --audio take1.flac --jsonl -
  sheetsync follow page1.png page2.png            (live, default input device)
"""


def register(subparsers) -> None:
    parser = add_command(subparsers, "follow", "follow a performance on a score", DESCRIPTION)
    parser.add_argument("score", nargs="+", help="a PDF, page images, or a folder of page images")
    parser.add_argument("--audio", metavar="FILE", help="a recording to follow (default: live input)")
    parser.add_argument("--checkpoint", metavar="PATH", help="model checkpoint (default: the shipped model)")
    parser.set_defaults(run=run)


def run(args) -> int:
    raise SheetsyncError("`sheetsync follow` is not built yet (issue #4: the follower)")
