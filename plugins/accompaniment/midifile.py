"""Reading an accompaniment from a standard MIDI file: its notes, bars (from the time signatures) and tempo map.

Everything is kept in MIDI ticks (musical time); bars turn a follower's measure position into ticks,
the tempo map only gives a starting tempo before the soloist's own is known.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import mido

from sheetsync.errors import SheetsyncError

DEFAULT_TEMPO = 500_000  # microseconds per quarter note (120 BPM), MIDI's default


@dataclass(frozen=True)
class Note:
    start: int  # ticks
    end: int
    channel: int
    note: int
    velocity: int


@dataclass(frozen=True)
class Accompaniment:
    """A MIDI file's notes, other channel messages (program changes, controllers) and bars, in ticks."""

    path: str
    ticks_per_beat: int
    notes: tuple[Note, ...]
    controls: tuple[tuple[int, mido.Message], ...]  # (tick, program_change/control_change/pitchwheel)
    bar_starts: tuple[int, ...]  # tick where bar 1, 2, ... begins
    bar_lengths: tuple[int, ...]
    tempos: tuple[tuple[int, int], ...]  # (tick, microseconds per quarter), sorted, first at tick 0

    @property
    def bars(self) -> int:
        return len(self.bar_starts)

    @property
    def end(self) -> int:
        return self.bar_starts[-1] + self.bar_lengths[-1]

    def tick_at(self, bar: float) -> float:
        """Ticks at a bar position (bar number from 1, plus the fraction of that bar played)."""
        index = min(max(int(bar) - 1, 0), self.bars - 1)
        return self.bar_starts[index] + (bar - (index + 1)) * self.bar_lengths[index]

    def bar_at(self, tick: float) -> float:
        """The bar position (1-based bar plus fraction) of a tick: the inverse of `tick_at`."""
        index = max(bisect.bisect_right(self.bar_starts, tick) - 1, 0)
        return index + 1 + (tick - self.bar_starts[index]) / self.bar_lengths[index]

    def bar_length(self, tick: float) -> int:
        """Length in ticks of the bar holding `tick`."""
        return self.bar_lengths[max(bisect.bisect_right(self.bar_starts, tick) - 1, 0)]

    def ticks_per_second(self, tick: float) -> float:
        """The file's own tempo at `tick`, in ticks per second."""
        index = max(bisect.bisect_right([t for t, _ in self.tempos], tick) - 1, 0)
        return self.ticks_per_beat * 1e6 / self.tempos[index][1]


def load(path: str | Path) -> Accompaniment:
    """Read a MIDI file (type 0 or 1); a clear error names the file when it cannot be used."""
    path = str(path)
    try:
        midi = mido.MidiFile(path)
    except FileNotFoundError:
        raise SheetsyncError(f"accompaniment file '{path}' does not exist") from None
    except Exception as error:  # mido raises OSError, EOFError, ValueError ... on bad files
        raise SheetsyncError(f"accompaniment file '{path}' is not a readable MIDI file: {error}") from error
    if midi.type == 2:
        raise SheetsyncError(f"accompaniment file '{path}' is a type 2 MIDI file (independent songs); "
                             f"use type 0 or 1")
    notes, controls, signatures, tempos = _events(midi, path)
    if not notes:
        raise SheetsyncError(f"accompaniment file '{path}' has no notes")
    last = max(note.end for note in notes)
    starts, lengths = _bars(signatures, midi.ticks_per_beat, last)
    return Accompaniment(path=path, ticks_per_beat=midi.ticks_per_beat, notes=tuple(notes), controls=tuple(controls),
                         bar_starts=tuple(starts), bar_lengths=tuple(lengths), tempos=tuple(tempos))


def _events(midi: mido.MidiFile, path: str):
    notes, controls, signatures, tempos = [], [], {}, {}
    for track in midi.tracks:
        tick, sounding = 0, {}
        for message in track:
            tick += message.time
            if message.type == "set_tempo":
                tempos[tick] = message.tempo
            elif message.type == "time_signature":
                signatures[tick] = (message.numerator, message.denominator)
            elif message.type == "note_on" and message.velocity > 0:
                key = (message.channel, message.note)
                if key in sounding:  # a repeated note-on without an off: end the earlier note here
                    notes.append(_note(sounding.pop(key), tick, key))
                sounding[key] = (tick, message.velocity)
            elif message.type in ("note_off", "note_on"):
                key = (message.channel, message.note)
                if key in sounding:
                    notes.append(_note(sounding.pop(key), tick, key))
            elif message.type in ("program_change", "control_change", "pitchwheel"):
                controls.append((tick, message.copy(time=0)))
        for key, begun in sounding.items():  # never released: end at the track's end
            notes.append(_note(begun, tick, key))
    notes = [note for note in notes if note.end > note.start]
    notes.sort(key=lambda n: (n.start, n.channel, n.note))
    controls.sort(key=lambda item: item[0])
    tempo_map = sorted(tempos.items())
    if not tempo_map or tempo_map[0][0] > 0:
        tempo_map.insert(0, (0, DEFAULT_TEMPO))
    return notes, controls, sorted(signatures.items()), tempo_map


def _note(begun: tuple[int, int], end: int, key: tuple[int, int]) -> Note:
    start, velocity = begun
    return Note(start=start, end=end, channel=key[0], note=key[1], velocity=velocity)


def _bars(signatures, ticks_per_beat: int, last: int) -> tuple[list[int], list[int]]:
    """Bar starts and lengths from the time signatures (4/4 until the first); a change starts a new bar."""
    changes = signatures or [(0, (4, 4))]
    if changes[0][0] > 0:
        changes.insert(0, (0, (4, 4)))
    starts, lengths, tick = [], [], 0
    for index, (at, (numerator, denominator)) in enumerate(changes):
        length = max(int(round(numerator * ticks_per_beat * 4 / denominator)), 1)
        until = changes[index + 1][0] if index + 1 < len(changes) else max(last, at + 1)
        tick = at
        while tick < until:
            starts.append(tick)
            lengths.append(min(length, until - tick) if index + 1 < len(changes) else length)
            tick += length
    return starts, lengths
