"""Which pages the viewer shows: the follower's page, the next one near its end, or the pages turned by hand."""

from __future__ import annotations

import threading
from dataclasses import dataclass

LAYOUTS = ("pair", "single")


@dataclass(frozen=True)
class View:
    """The pages on screen (1-based, left to right) and whether the player turned them by hand."""

    pages: tuple[int, ...]
    manual: bool = False

    def to_dict(self) -> dict:
        return {"pages": list(self.pages), "manual": self.manual}


class PageTurner:
    """Turns pages from the followed positions, with a look-ahead in systems; manual turns win until the
    follower reaches the page shown. Thread-safe (positions and key presses come from different threads).

    `systems[i]` is the number of systems on page i+1. Near the end of a page (on its last `lookahead`
    systems) the `pair` layout shows the page and the next side by side, `single` turns to the next.
    A new automatic view must hold for `settle` frames, so a follower hesitating at a boundary does not
    make the page flicker.
    """

    def __init__(self, systems: list[int], lookahead: int = 1, layout: str = "pair", settle: int = 3):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        self.systems, self.lookahead, self.layout, self.settle = list(systems), lookahead, layout, settle
        self.view = View((1,))
        self._candidate: tuple[View, int] | None = None
        self._lock = threading.Lock()

    def auto_view(self, page: int, system: int) -> View:
        """The view for the follower on `page`, `system` (both 1-based), ignoring manual turns."""
        count = self.systems[page - 1] if 1 <= page <= len(self.systems) else 0
        near_end = self.lookahead > 0 and count > 0 and system > count - self.lookahead
        if near_end and page < len(self.systems):
            return View((page, page + 1) if self.layout == "pair" else (page + 1,))
        return View((page,))

    def follow(self, page: int, system: int) -> View | None:
        """Take a followed position; return the new view when it changed, else None."""
        with self._lock:
            if self.view.manual:
                if page not in self.view.pages:
                    return None
                self._candidate = None
                return self._show(View(self.view.pages))
            wanted = self.auto_view(page, system)
            if wanted == self.view:
                self._candidate = None
                return None
            held = self._candidate[1] + 1 if self._candidate and self._candidate[0] == wanted else 1
            self._candidate = (wanted, held)
            if held < self.settle:
                return None
            self._candidate = None
            return self._show(wanted)

    def turn(self, step: int) -> View:
        """Turn by hand, `step` pages forward (negative: back), from the first page shown."""
        with self._lock:
            page = min(max(self.view.pages[0] + step, 1), len(self.systems))
            return self._show(View((page,), manual=True))

    def release(self, page: int | None = None) -> View:
        """Back to automatic turning (on `page` when given, else on the pages shown)."""
        with self._lock:
            self._candidate = None
            return self._show(View((page,) if page else self.view.pages))

    def _show(self, view: View) -> View:
        self.view = view
        return view
