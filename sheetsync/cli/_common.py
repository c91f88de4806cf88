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


def add_tracking_options(parser: argparse.ArgumentParser) -> None:
    """The follower's own options, shared by `follow` and `evaluate`."""
    parser.add_argument("--no-alignment", action="store_true",
                        help="read every frame's map on its own, as the paper does (default: align what is "
                             "heard with the score in reading order; see README, Following)")


def tracker_settings(args):
    """The TrackerSettings the tracking options ask for."""
    from sheetsync.tracking.alignment import AlignmentSettings
    from sheetsync.tracking.tracker import TrackerSettings

    return TrackerSettings(alignment=AlignmentSettings(enabled=not args.no_alignment))
