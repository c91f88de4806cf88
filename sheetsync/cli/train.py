"""`sheetsync train`: train the audio-conditioned U-Net on a dataset (the model issue fills this in)."""

from __future__ import annotations

from sheetsync.cli._common import add_command
from sheetsync.errors import SheetsyncError

DESCRIPTION = """\
Train a score-following model on a dataset in the sheetsync format.

example:
  sheetsync train --data data/corpus --out runs/first
"""


def register(subparsers) -> None:
    parser = add_command(subparsers, "train", "train a model on a dataset", DESCRIPTION)
    parser.add_argument("--data", metavar="DIR", required=True, help="dataset folder (see `sheetsync data`)")
    parser.add_argument("--out", metavar="RUN_DIR", required=True, help="run folder for logs and checkpoints")
    parser.set_defaults(run=run)


def run(args) -> int:
    raise SheetsyncError("`sheetsync train` is not built yet (issue #3: the model)")
