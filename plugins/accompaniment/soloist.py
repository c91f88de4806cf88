"""Where the soloist is now and how fast they go, from the follower's positions (in accompaniment ticks).

- Tempo: the least-squares slope of position against arrival time over the last `window` seconds of
  positions (those that fall back a little count too, once the soloist moves on within `stall` seconds,
  so the follower's jitter averages out). A stall (no advance for `stall` seconds) adds no samples and
  starts a fresh window, keeping the tempo from before it, so playing resumes at that tempo after a
  fermata. Until there are enough samples the follower's own `Position.tempo` is used, then the MIDI
  file's tempo.
- Now: the furthest position heard, extrapolated at that tempo for at most `hold` seconds (about two
  frames); when positions stop advancing (a fermata, a lost follower) the estimate stops too.
- Jumps: positions more than `jump` beats from where the soloist should be, `confirm` times in a row and
  consistent with each other, are a jump: `update` returns the new place to re-locate to.
"""

from __future__ import annotations

from collections import deque


class Soloist:
    """The soloist's position and tempo; feed `update`, ask `now` and `rate`."""

    def __init__(self, ticks_per_beat: int, window: float = 1.0, hold: float = 0.1, stall: float = 0.25,
                 jump: float = 2.0, confirm: int = 3):
        self.ticks_per_beat = ticks_per_beat
        self.window, self.hold, self.stall = window, hold, stall
        self.jump_ticks, self.confirm = jump * ticks_per_beat, confirm
        self.samples: deque[tuple[float, float]] = deque()
        self.anchor: tuple[float, float] | None = None  # (tick, arrival time) of the furthest position heard
        self.estimate: float | None = None  # ticks per second, own estimate
        self.reported: float | None = None  # ticks per second, from Position.tempo
        self.fallback = 0.0  # ticks per second, from the MIDI file
        self._candidates: list[tuple[float, float]] = []
        self._held: list[tuple[float, float]] = []  # positions not beyond the anchor, since it moved

    @property
    def rate(self) -> float:
        """The soloist's tempo in ticks per second (own estimate, else the follower's, else the file's)."""
        if self.estimate is not None:
            return self.estimate
        return self.reported if self.reported is not None else self.fallback

    def now(self, t: float) -> float | None:
        """The soloist's estimated tick at time `t`, or None before the first position."""
        if self.anchor is None:
            return None
        tick, at = self.anchor
        return tick + self.rate * min(max(t - at, 0.0), self.hold)

    def stalled_for(self, t: float) -> float:
        """Seconds since the position last advanced (0 before the first position)."""
        return 0.0 if self.anchor is None else max(t - self.anchor[1] - self.hold, 0.0)

    def update(self, t: float, tick: float, reported: float | None = None) -> float | None:
        """A position (tick) heard at time `t`; `reported` is the follower's tempo in ticks per second.
        Returns the tick to re-locate to when this is the start of playing or a confirmed jump, else None."""
        if reported is not None and reported > 0:
            self.reported = reported
        if self.anchor is None:
            self._restart(t, tick)
            return tick
        expected = self.now(t)
        if abs(tick - expected) > self.jump_ticks:
            return self._maybe_jump(t, tick)
        self._candidates.clear()
        if tick > self.anchor[0]:
            if t - self.anchor[1] > self.stall:  # resuming after a stall: measure the tempo afresh
                self.samples.clear()
            else:  # the positions that fell back a little were the follower's jitter: they count
                self.samples.extend(self._held)
            self._held.clear()
            self.anchor = (tick, t)
            self._sample(t, tick)
        elif t - self.anchor[1] <= self.stall:
            self._held.append((t, tick))  # jitter or the start of a stall: decided when it moves on
        return None

    def _maybe_jump(self, t: float, tick: float) -> float | None:
        if self._candidates:
            last_t, last_tick = self._candidates[-1]
            if abs(tick - (last_tick + self.rate * (t - last_t))) > self.ticks_per_beat:
                self._candidates.clear()  # not a consistent new place: noise
        self._candidates.append((t, tick))
        if len(self._candidates) < self.confirm:
            return None
        self._restart(t, tick)
        return tick

    def _restart(self, t: float, tick: float) -> None:
        self.anchor = (tick, t)
        self.samples.clear()
        self._held.clear()
        self._candidates.clear()
        self._sample(t, tick)

    def _sample(self, t: float, tick: float) -> None:
        self.samples.append((t, tick))
        while self.samples and t - self.samples[0][0] > self.window:
            self.samples.popleft()
        if len(self.samples) >= 5 and t - self.samples[0][0] >= 0.4:
            slope = _slope(self.samples)
            if slope > 0:
                self.estimate = slope


def _slope(samples) -> float:
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_x = sum(x for _, x in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread <= 0:
        return 0.0
    return sum((t - mean_t) * (x - mean_x) for t, x in samples) / spread
