"""Ableton Link (optional extra `link`, PyPI aalink): the performer's tempo for every Link peer on the network.

Link shares tempo and beat phase, not a song position: peers (Live, Bitwig, apps) play in time with the
performer, but where in their arrangement they are is up to them. The session's beat is aligned with the
performer's at the first position (quantised to the measure when other peers are playing).
aalink needs a running asyncio loop, so Link lives on a thread of its own with one.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)
TEMPO_STEP = 0.05  # BPM; smaller changes are not passed on


def require_aalink():
    try:
        import aalink
    except ImportError:
        raise SheetsyncError("--link needs the aalink package: pip install 'sheetsync-music[link]' "
                             "(or pip install aalink)") from None
    return aalink


class LinkSync:
    """A Link peer whose tempo is the performer's."""

    def __init__(self, steering, initial_bpm: float = 120.0):
        self.steering = steering
        self._aalink = require_aalink()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.link = None
        self._aligned = False
        self._thread = threading.Thread(target=self._run, args=(initial_bpm,), name="sheetsync-link", daemon=True)
        self._thread.start()
        if not self._ready.wait(5) or self.link is None:
            raise SheetsyncError("Ableton Link did not start (aalink)")

    def _run(self, bpm: float) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._open(bpm))
            self._ready.set()
            self._loop.run_forever()
        finally:
            if self.link is not None:
                self.link.enabled = False
            self._ready.set()
            self._loop.close()

    async def _open(self, bpm: float) -> None:
        self.link = self._aalink.Link(bpm)  # on this thread's running loop
        self.link.quantum = self.steering.beats_per_measure
        self.link.enabled = True

    def position(self, position) -> None:
        bpm = self.steering.tempo(position)
        if bpm is None:
            return
        if abs(bpm - self.link.tempo) >= TEMPO_STEP:  # also when joining a session at another tempo
            self._loop.call_soon_threadsafe(setattr, self.link, "tempo", bpm)
        beat = self.steering.beat(position)
        if not self._aligned and beat is not None:
            self._aligned = True
            self._loop.call_soon_threadsafe(self.link.request_beat, beat)

    def close(self) -> None:
        """Leave the Link session and end the thread."""
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
