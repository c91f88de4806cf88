"""The engine: audio source -> tracker -> hooks, and the events derived from positions."""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field

import numpy as np

from sheetsync.events import PageInfo, Position, Session
from sheetsync.plugins import HookCaller


@dataclass
class Control:
    """What plugins may ask of a running engine, from any thread (the one channel back).

    Requests are served between audio blocks, in the order they came.
    """

    requests: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    def reset(self) -> None:
        """Forget what was heard and listen again from the first page."""
        self.requests.put(("reset", None))

    def stop(self) -> None:
        """End the session (as if the audio had ended)."""
        self.requests.put(("stop", None))

    def pause(self) -> None:
        """Stop following: audio that arrives is dropped and no positions are sent, until `resume`."""
        self.requests.put(("pause", None))

    def resume(self) -> None:
        """Follow again after `pause`, carrying on from what was heard before it."""
        self.requests.put(("resume", None))

    def go_to_page(self, page: int) -> None:
        """Force the current page (1-based), keeping what was heard."""
        self.requests.put(("page", int(page)))


@dataclass
class Config:
    """What `sheetsync_configure` receives: the parsed options and the control channel."""

    args: object
    control: Control


class Engine:
    """Runs one session: feeds audio to the tracker and tells the plugins."""

    def __init__(self, manager, tracker, session: Session, control: Control):
        self.hooks = HookCaller(manager)
        self.tracker, self.session, self.control = tracker, session, control
        self.latencies: list[float] = []
        self._page = None
        self._measure = None
        self._hinted = None
        self.paused = False

    def run(self, source) -> str:
        """Follow until the audio ends, a plugin asks to stop, or Ctrl-C; returns the reason."""
        self.hooks.call("sheetsync_session_start", session=self.session)
        reason = "end"
        try:
            for block in source.blocks():
                if not self._serve_requests():
                    reason = "stopped"
                    break
                if not self.paused:
                    self._process(block)
            else:
                self._emit_all(self._timed(self.tracker.finish))
        except KeyboardInterrupt:
            reason = "interrupted"
        except BaseException:
            reason = "error"
            raise
        finally:
            source.close()
            self.hooks.call("sheetsync_session_end", session=self.session, reason=reason)
        return reason

    def _process(self, block: np.ndarray) -> None:
        self._emit_all(self._timed(lambda: self.tracker.push_audio(block)))

    def _timed(self, work) -> list[Position]:
        started = time.perf_counter()
        positions = work()
        if positions:
            per_frame = (time.perf_counter() - started) / len(positions)
            self.latencies.extend([per_frame] * len(positions))
        return positions

    def _emit_all(self, positions: list[Position]) -> None:
        for position in positions:
            self.emit(position)

    def emit(self, position: Position) -> None:
        """Call the per-frame hooks, and the change hooks when page or measure changed."""
        self.hooks.call("sheetsync_position", position=position)
        if position.measure != self._measure:
            self._measure = position.measure
            self.hooks.call("sheetsync_measure", position=position)
        if position.page != self._page:
            self._page = position.page
            self.hooks.call("sheetsync_page_turn", page=position.page, position=position, early=False)
        pages = self.session.pages
        last_system = len(pages[position.page - 1].systems)
        upcoming = position.page + 1
        if upcoming <= len(pages) and position.system >= last_system and self._hinted != upcoming:
            self._hinted = upcoming
            self.hooks.call("sheetsync_page_turn", page=upcoming, position=position, early=True)

    def _serve_requests(self) -> bool:
        while not self.control.requests.empty():
            kind, value = self.control.requests.get()
            if kind == "stop":
                return False
            if kind == "reset":
                self.tracker.reset()
                self._page = self._measure = self._hinted = None
            elif kind == "page":
                self.tracker.go_to_page(value - 1)
            else:
                self.paused = kind == "pause"
        return True


def session_for(score, tracker, source_name: str) -> Session:
    """The Session event for a loaded score and its tracker."""
    from sheetsync.audio.features import FPS

    pages = tuple(PageInfo(number=i + 1, width=page.shape[1], height=page.shape[0],
                           systems=tuple(s.bbox for s in layout.systems),
                           first_measure=tracker.score_map.first_measure(i), image=page)
                  for i, (page, layout) in enumerate(zip(score.pages, tracker.score_map.layouts)))
    return Session(title=score.title, score=score.sources[0] if score.sources else "", pages=pages, fps=FPS,
                   source=source_name)
