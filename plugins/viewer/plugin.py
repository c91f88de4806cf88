"""One viewer for one session: the hooks that feed the server, and the key presses that come back."""

from __future__ import annotations

import io
import json
import math
import sys
import uuid

import numpy as np

from sheetsync import hookimpl
from sheetsync_viewer.hub import Hub
from sheetsync_viewer.server import ActionError, ViewerServer
from sheetsync_viewer.turner import PageTurner, View

POSITION_FIELDS = ("time", "frame", "page", "system", "x", "y", "measure", "measure_position", "progress",
                   "confidence", "tempo")


class ViewerPlugin:
    """Binds the server at once (a busy port is an error before following starts), serves from the session's
    start and stops at its end. `control` (the engine's Control) receives the re-sync and restart keys."""

    def __init__(self, address: tuple[str, int] = ("127.0.0.1", 8765), control=None, lookahead: int = 1,
                 layout: str = "pair", announce: bool = True):
        self.control, self.lookahead, self.layout, self.announce = control, lookahead, layout, announce
        self.hub = Hub()
        self.turner: PageTurner | None = None
        self.server = ViewerServer(address, self.hub, self.act)

    @property
    def url(self) -> str:
        return self.server.url

    @hookimpl
    def sheetsync_session_start(self, session):
        self.server.images = {page.number: encode_png(page.image) for page in session.pages
                              if page.image is not None}
        self.turner = PageTurner([len(page.systems) for page in session.pages], self.lookahead, self.layout)
        self.server.session_json = json.dumps(session_dict(session, uuid.uuid4().hex[:8], self.lookahead,
                                                           self.layout))
        self.hub.publish("session", self.server.session_json)
        self._publish_view(self.turner.view)
        self.server.start()
        if self.announce:
            print(f"sheetsync: viewer at {self.url}", file=sys.stderr)

    @hookimpl
    def sheetsync_position(self, position):
        if self.turner is None:
            return
        view = self.turner.follow(position.page, position.system)
        if view is not None:
            self._publish_view(view)
        self.hub.publish("position", json.dumps({name: _plain(getattr(position, name, None))
                                                 for name in POSITION_FIELDS}))

    @hookimpl
    def sheetsync_session_end(self, session, reason):
        self.hub.publish("end", json.dumps({"reason": reason}))
        self.close()

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        self.server.stop()

    def act(self, request: dict) -> dict:
        """Carry out a key press: next, previous, page (with "page": N), follow, resync, restart."""
        if self.turner is None:
            raise ActionError("no session yet")
        action = request.get("action")
        if action == "next":
            view = self.turner.turn(1)
        elif action == "previous":
            view = self.turner.turn(-1)
        elif action == "page":
            page = request.get("page")
            if not isinstance(page, int) or not 1 <= page <= len(self.turner.systems):
                raise ActionError(f"no page {page!r} (the score has {len(self.turner.systems)})")
            view = self.turner.turn(page - self.turner.view.pages[0])
        elif action == "follow":
            view = self.turner.release()
        elif action in ("resync", "restart"):
            if self.control is None:
                raise ActionError("this viewer has no control channel to the follower")
            if action == "resync":
                page = self.turner.view.pages[0]
                self.control.go_to_page(page)
                view = self.turner.turn(0)  # manual until the follower reports that page
            else:
                self.control.reset()
                view = self.turner.release(1)
        else:
            raise ActionError(f"unknown action {action!r}")
        self._publish_view(view)
        return {"view": view.to_dict()}

    def _publish_view(self, view: View) -> None:
        self.hub.publish("view", json.dumps(view.to_dict()))


def session_dict(session, token: str, lookahead: int, layout: str) -> dict:
    """What the page needs to draw the score: page sizes, system boxes and image addresses."""
    return {"id": token, "title": session.title, "lookahead": lookahead, "layout": layout,
            "pages": [{"number": page.number, "width": page.width, "height": page.height,
                       "systems": [[round(float(v), 1) for v in box] for box in page.systems],
                       "first_measure": page.first_measure,
                       "image": f"/pages/{page.number}.png?s={token}" if page.image is not None else None}
                      for page in session.pages]}


def encode_png(image) -> bytes:
    """A grey (or RGB) uint8 page as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _plain(value):
    """numpy scalars as Python numbers, NaN as None, for JSON."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and not math.isfinite(value) else value
