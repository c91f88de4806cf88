"""`sheetsync evaluate`: run the follower over a dataset and report the paper's metrics."""

from __future__ import annotations

from sheetsync.cli._common import add_command
from sheetsync.errors import SheetsyncError

DESCRIPTION = """\
Follow every piece of a dataset online and report pixel F1, alignment error
and the share of onsets tracked within 0.05/0.1/0.5/1/5 seconds.

example:
  sheetsync evaluate --data data/corpus --split test --json metrics.json
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "evaluate", "measure a model on a dataset", DESCRIPTION)
    parser.add_argument("--data", metavar="DIR", required=True, help="dataset folder")
    parser.add_argument("--split", default="test", help="which split to evaluate (default: test)")
    parser.add_argument("--checkpoint", metavar="PATH", help="model checkpoint (default: the shipped model)")
    parser.set_defaults(run=run)


def run(args) -> int:
    raise SheetsyncError("`sheetsync evaluate` is not built yet (issue #4: the follower)")
