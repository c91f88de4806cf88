"""A synthetic soloist for testing and measuring the accompaniment: a known tempo curve (with optional
fermata and jump) played in real time as Positions at 20 per second, and a MIDI file with one note per beat
whose pitch names the beat, so a receiver can tell which beat each note-on belongs to.
"""

from __future__ import annotations

import dataclasses
import time
from types import SimpleNamespace

import mido
import numpy as np

from sheetsync.events import Position

FIRST_PITCH = 30  # beat k of the accompaniment sounds pitch FIRST_PITCH + k
STEP = 0.001  # seconds: resolution of the integrated performance


def beat_file(path, beats: int, beats_per_bar: int = 4, ticks_per_beat: int = 480, bpm: float = 100) -> None:
    """Write a MIDI file with one half-beat note on every beat, pitch FIRST_PITCH + beat index."""
    if FIRST_PITCH + beats > 127:
        raise ValueError("too many beats for one pitch each")
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=beats_per_bar, denominator=4))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    track.append(mido.Message("program_change", program=0))
    half = ticks_per_beat // 2
    for beat in range(beats):
        track.append(mido.Message("note_on", note=FIRST_PITCH + beat, velocity=80, time=0 if beat == 0 else half))
        track.append(mido.Message("note_off", note=FIRST_PITCH + beat, time=half))
    midi.save(path)


@dataclasses.dataclass
class Performance:
    """The soloist's beat (from 0 at the first downbeat) over wall time: a piecewise-linear tempo curve in
    BPM over (time, bpm) points, optionally standing still for `stall` = (start, seconds) and jumping at
    `jump` = (time, to_beat)."""

    curve: list[tuple[float, float]]
    duration: float
    stall: tuple[float, float] | None = None
    jump: tuple[float, float] | None = None

    def __post_init__(self):
        self.lateness = 0.0  # the latest a position was sent by `perform`, seconds
        self.times = np.arange(0.0, self.duration + STEP, STEP)
        times, bpms = zip(*self.curve)
        speed = np.interp(self.times, times, bpms) / 60 * STEP
        if self.stall:
            start, length = self.stall
            speed[(self.times >= start) & (self.times < start + length)] = 0.0
        beats = np.concatenate([[0.0], np.cumsum(speed[:-1])])
        if self.jump:
            at, to_beat = self.jump
            after = self.times >= at
            beats[after] = beats[after] - beats[after][0] + to_beat
        self.beats = beats

    def beat_at(self, t: float) -> float:
        return float(np.interp(t, self.times, self.beats))

    def bpm_at(self, t: float) -> float:
        times, bpms = zip(*self.curve)
        return float(np.interp(t, times, bpms))

    def beat_times(self, beat: int) -> list[float]:
        """Every time the soloist reaches `beat` (more than once after a jump back)."""
        reached = np.flatnonzero((self.beats[:-1] < beat) & (self.beats[1:] >= beat)) + 1
        found = [float(self.times[i]) for i in reached]
        if beat == 0:
            found.insert(0, 0.0)
        return found


def position(t: float, frame: int, measure_position: float, tempo: float | None) -> Position:
    """A Position with only what the accompaniment reads filled in sensibly."""
    fields = dict(time=t, frame=frame, page=1, x=0.5, y=0.5, system=1, measure=int(measure_position),
                  progress=0.0, confidence=0.9, tempo=tempo)
    if "measure_position" in {f.name for f in dataclasses.fields(Position)}:
        return Position(**fields, measure_position=measure_position)
    return SimpleNamespace(**fields, measure_position=measure_position)  # before Position has the field


def perform(send, performance: Performance, beats_per_bar: int = 4, fps: float = 20.0,
            report_tempo: bool = False) -> float:
    """Call `send(position)` at `fps` in real time for the whole performance; returns the monotonic start time
    (the performance's time 0). Positions are exact (no follower latency): measure 1 starts at beat 0."""
    start = time.monotonic()
    frame = 0
    while frame / fps <= performance.duration:
        t = frame / fps
        delay = start + t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        performance.lateness = max(performance.lateness, time.monotonic() - start - t)
        tempo = performance.bpm_at(t) / beats_per_bar if report_tempo else None
        send(position(t, frame, 1 + performance.beat_at(t) / beats_per_bar, tempo))
        frame += 1
    return start


class Recorder:
    """Records note-ons and note-offs arriving at a MIDI input port, with their monotonic arrival times."""

    def __init__(self, port):
        self.port = port
        self.messages: list[tuple[float, mido.Message]] = []
        port.callback = self._received

    def _received(self, message) -> None:
        self.messages.append((time.monotonic(), message))

    def note_ons(self) -> list[tuple[float, int]]:
        return [(t, m.note) for t, m in self.messages if m.type == "note_on" and m.velocity > 0]

    def note_offs(self) -> list[tuple[float, int]]:
        return [(t, m.note) for t, m in self.messages
                if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)]


def lags(note_ons, performance: Performance, start: float) -> list[float]:
    """Seconds from the soloist reaching each received note's beat to its arrival (nearest such moment)."""
    result = []
    for arrived, note in note_ons:
        moments = performance.beat_times(note - FIRST_PITCH)
        if moments:
            result.append(min((arrived - start - m for m in moments), key=abs))
    return result


def play_session(accompany: str, midi_out: str, performance: Performance, beats_per_bar: int = 4,
                 report_tempo: bool = False, **options) -> float:
    """Run one session of the accompaniment plugin through a real plugin manager and engine, fed with the
    performance in real time; returns the performance's start (monotonic seconds)."""
    import sheetsync_accompaniment
    from argparse import Namespace

    from sheetsync.engine import Config, Control, Engine
    from sheetsync.events import PageInfo, Session
    from sheetsync.plugins import plugin_manager

    manager = plugin_manager(entry_points=False)
    manager.register(sheetsync_accompaniment, name="accompaniment")
    args = Namespace(accompany=accompany, midi_out=midi_out, accompany_map=None, accompany_confidence=0.0,
                     jsonl=None, quiet=True, **options)
    manager.hook.sheetsync_configure(config=Config(args, Control()))
    session = Session(title="synthetic", score="", pages=(PageInfo(1, 100, 100, ((0, 0, 100, 100),)),), fps=20.0,
                      source="synthetic")
    engine = Engine(manager, None, session, Control())
    engine.hooks.call("sheetsync_session_start", session=session)
    try:
        return perform(engine.emit, performance, beats_per_bar, report_tempo=report_tempo)
    finally:
        engine.hooks.call("sheetsync_session_end", session=session, reason="end")
