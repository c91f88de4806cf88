"""Steering a DAW's transport after the performer: where it should be (in quarter-note beats), how fast,
and when it is so far off that it must be relocated rather than nudged."""

from __future__ import annotations

from dataclasses import dataclass

MIN_BPM, MAX_BPM = 20.0, 400.0  # what DAWs accept; a slower "tempo" is a performer holding still


@dataclass
class Steering:
    """Turns Positions into beats and BPM, and a DAW's beat into a tempo that closes the gap.

    `beats_per_measure` counts quarter notes (4/4: 4, 3/4: 3, 6/8: 3, 2/2: 4, 7/8: 3.5). Beat 0 is the start
    of measure 1. A DAW more than `jump_measures` away is relocated; closer, its tempo is bent (by at most
    `max_bend`, e.g. 10 %) so that the gap closes in about `catch_up_seconds`.
    """

    beats_per_measure: float = 4.0
    jump_measures: float = 1.0
    catch_up_seconds: float = 2.0
    max_bend: float = 0.1
    bpm: float | None = None  # the performer's last known tempo in BPM (kept while the follower has none)

    def beat(self, position) -> float | None:
        """The performer's place in quarter-note beats from the start of measure 1, or None."""
        if position.measure_position is None:
            return None
        return max(0.0, (position.measure_position - 1.0) * self.beats_per_measure)

    def tempo(self, position) -> float | None:
        """The performer's tempo in BPM (quarter notes per minute, kept within MIN_BPM-MAX_BPM); the last known
        one while there is none."""
        if position.tempo is not None and position.tempo > 0:
            self.bpm = min(MAX_BPM, max(MIN_BPM, position.tempo * self.beats_per_measure))
        return self.bpm

    def is_jump(self, performer_beat: float, daw_beat: float) -> bool:
        """Whether the DAW is too far from the performer to catch up by bending the tempo."""
        return abs(performer_beat - daw_beat) > self.jump_measures * self.beats_per_measure

    def bend(self, bpm: float, performer_beat: float, daw_beat: float) -> float:
        """The tempo to give the DAW so that it closes the gap to the performer smoothly."""
        correction = (performer_beat - daw_beat) * 60.0 / self.catch_up_seconds
        bent = min(bpm * (1 + self.max_bend), max(bpm * (1 - self.max_bend), bpm + correction))
        return min(MAX_BPM, max(MIN_BPM, bent))
