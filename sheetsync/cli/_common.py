"""Small helpers shared by the subcommand modules."""

from __future__ import annotations

import argparse


def add_command(subparsers, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """Add a subcommand whose --help shows `description` verbatim."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
