"""Which cues fire as the performer moves: reaching, skipping, jumping back and leaving ranges.

Rules (also in README.md), with `margin` in the cue's axis units (measures or progress):
- a point cue fires once when the position reaches it; if it is first seen more than `margin` past it
  (a forward jump, or following that starts later in the piece) it was skipped: its `skipped` policy
  says whether it fires late ("fire") or not ("drop");
- a fired cue is re-armed when the position goes back before it: at once after a backward jump (a step back
  of more than `margin`), or when the position drifts more than `margin` before it (wobble is ignored);
- a range cue sends `send` when the position is inside it (also after a jump into its middle) and `exit`
  (and note-offs for the notes it started without a duration) when the position leaves it; the same
  `margin` keeps wobble at either edge from leaving and re-entering.
"""

from __future__ import annotations

import logging

import mido

from sheetsync_midi.cuefile import Action, Cue, CueFile

log = logging.getLogger(__name__)


class CueList:
    """The state of every cue of a file; `update` returns the actions the new position triggers."""

    def __init__(self, cue_file: CueFile):
        self.file = cue_file
        self.cues: list[Cue] = [c for c in cue_file.cues if c.page is None]
        self._unresolved = [c for c in cue_file.cues if c.page is not None]
        self._done: set[int] = set()  # point cues fired (or dropped); range cues active
        self._passed: set[int] = set()  # range cues left at their end, until the position is well back inside
        self._previous: dict[str, float | None] = {"measure": None, "progress": None}

    def resolve_pages(self, first_measures: dict[int, int | None]) -> None:
        """Turn page-relative cues into measure numbers, given each page's first printed measure."""
        for cue in self._unresolved:
            first = first_measures.get(cue.page)
            if first is None:
                log.error("%s: %s: page %d has no known first measure; this cue is off", self.file.path,
                          cue.label, cue.page)
                continue
            offset = first - 1
            cue.start += offset
            cue.end = None if cue.end is None else cue.end + offset
            cue.page = None
            self.cues.append(cue)
        self._unresolved = []

    def update(self, measure: float | None, progress: float | None) -> list[Action]:
        """The actions due now that the performer is at `measure` (measure_position) and `progress`."""
        actions: list[Action] = []
        for axis, here in (("measure", measure), ("progress", progress)):
            if here is None:
                continue
            margin = self.file.margin if axis == "measure" else self.file.progress_margin
            before = self._previous[axis]
            jumped_back = before is not None and before - here > margin
            for index, cue in enumerate(self.cues):
                if cue.axis == axis:
                    if cue.end is None:
                        self._point(index, cue, here, margin, jumped_back, actions)
                    else:
                        self._range(index, cue, here, margin, jumped_back, actions)
            self._previous[axis] = here
        return actions

    def release_all(self) -> list[Action]:
        """What leaving every active range sends (at the end of a session)."""
        actions: list[Action] = []
        for index, cue in enumerate(self.cues):
            if cue.end is not None and index in self._done:
                self._done.discard(index)
                actions.extend(_leaving(cue))
        return actions

    def _point(self, index, cue, here, margin, jumped_back, actions) -> None:
        if index in self._done:
            if here < cue.start - margin or (jumped_back and here < cue.start):
                self._done.discard(index)  # re-armed
            return
        if here < cue.start:
            return
        self._done.add(index)
        if here - cue.start <= margin or cue.skipped == "fire":
            actions.extend(cue.send)
        else:
            log.debug("%s skipped (at %s, now %s)", cue.label, cue.start, here)

    def _range(self, index, cue, here, margin, jumped_back, actions) -> None:
        if index in self._passed and (here < cue.end - margin or jumped_back):
            self._passed.discard(index)
        if index in self._done:
            left = here >= cue.end or here < cue.start - margin or (jumped_back and here < cue.start)
            if left:
                self._done.discard(index)
                if here >= cue.end:
                    self._passed.add(index)
                actions.extend(_leaving(cue))
        elif cue.start <= here < cue.end and index not in self._passed:
            self._done.add(index)
            actions.extend(cue.send)


def _leaving(cue: Cue) -> list[Action]:
    """A range's exit messages, after note-offs for the notes it started without a duration."""
    held = [Action(mido.Message("note_off", channel=a.message.channel, note=a.message.note))
            for a in cue.send if a.message.type == "note_on" and a.duration is None]
    return held + list(cue.exit)
