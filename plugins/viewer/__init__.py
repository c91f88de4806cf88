"""sheetsync adapter: a page-turning score viewer in the browser (`--viewer [HOST:]PORT`).

A local web page shows the page being played with a marker at the followed
position, the measure and the confidence, and turns pages by itself; keys and
foot pedals turn pages by hand and re-sync the follower. See README.md.
"""

from __future__ import annotations

from sheetsync import hookimpl
from sheetsync.errors import SheetsyncError
from sheetsync_viewer.plugin import ViewerPlugin
from sheetsync_viewer.server import parse_address
from sheetsync_viewer.turner import LAYOUTS

DEFAULT_ADDRESS = "127.0.0.1:8765"
_viewer: ViewerPlugin | None = None


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--viewer", nargs="?", const=DEFAULT_ADDRESS, metavar="[HOST:]PORT",
                        help=f"show the score in a browser with a page turner (default {DEFAULT_ADDRESS}; "
                             "loopback unless a host is given)")
    parser.add_argument("--viewer-lookahead", type=int, default=1, metavar="SYSTEMS",
                        help="show the next page this many systems before the end of a page (default 1: on "
                             "the last system; 0: when the follower gets there)")
    parser.add_argument("--viewer-layout", choices=LAYOUTS, default="pair",
                        help="near a page's end: 'pair' shows it and the next side by side (default), "
                             "'single' turns to the next")


@hookimpl
def sheetsync_configure(config):
    global _viewer
    close()
    if not getattr(config.args, "viewer", None):
        return
    if config.args.viewer_lookahead < 0:
        raise SheetsyncError(f"--viewer-lookahead must be 0 or more, not {config.args.viewer_lookahead}")
    _viewer = ViewerPlugin(parse_address(config.args.viewer), config.control, config.args.viewer_lookahead,
                           config.args.viewer_layout)


@hookimpl
def sheetsync_session_start(session):
    if _viewer is not None:
        _viewer.sheetsync_session_start(session)


@hookimpl
def sheetsync_position(position):
    if _viewer is not None:
        _viewer.sheetsync_position(position)


@hookimpl
def sheetsync_session_end(session, reason):
    if _viewer is not None:
        _viewer.sheetsync_session_end(session, reason)
    close()


def close() -> None:
    """Release the viewer's port (a session that never started still bound it)."""
    global _viewer
    if _viewer is not None:
        _viewer.close()
    _viewer = None
