"""The plugin API: every hook a sheetsync plugin may implement (all optional, keyword arguments).

A plugin is a module or object with functions named like these hooks and
marked with `sheetsync.hookimpl`. Installed packages register plugins through
the entry-point group `sheetsync`; scripts load with `sheetsync follow -p FILE.py`.
"""

from __future__ import annotations

import pluggy

PROJECT = "sheetsync"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def sheetsync_addoption(parser) -> None:
    """Add command-line options to `sheetsync follow` (an argparse parser or argument group)."""


@hookspec
def sheetsync_configure(config) -> None:
    """Read the parsed options (`config.args`) and decide whether to be active; may keep `config.control`."""


@hookspec
def sheetsync_session_start(session) -> None:
    """The score is loaded and following is about to start."""


@hookspec
def sheetsync_position(position) -> None:
    """A new position, every frame (20 per second). The hot path: keep it cheap or hand off to a thread."""


@hookspec
def sheetsync_measure(position) -> None:
    """The printed measure number changed."""


@hookspec
def sheetsync_page_turn(page, position, early) -> None:
    """The performer is on (early=False) or about to reach (early=True) 1-based `page`."""


@hookspec
def sheetsync_session_end(session, reason) -> None:
    """Following ended: reason is "end", "stopped" (a plugin asked), "interrupted" or "error". Always called;
    release resources here."""


@hookspec(firstresult=True)
def sheetsync_audio_source(config):
    """Return an audio source to follow instead of the built-in file/microphone input, or None."""
