"""Piano synthesis from exact note times with SoundFonts.

The synthesiser is midirenderer (rustysynth, from PyPI: no system library).
The MIDI file it renders has one tick per output sample at 22,050 Hz, so note
starts land where they were asked to. pretty_midi's General MIDI soundfont is
always there; Debian's soundfonts add timbres when installed.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from sheetsync.errors import SheetsyncError

TICKS_PER_SECOND = 22050  # ticks per beat at 1 beat per second: one tick per sample
SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/soundfonts"))
# General MIDI presets that sound like a keyboard a score follower should follow.
PIANO_PROGRAMS = {0: "acoustic grand", 1: "bright acoustic", 2: "electric grand", 3: "honky-tonk",
                  4: "electric piano 1", 5: "electric piano 2"}
PROGRAM_WEIGHTS = {0: 4.0, 1: 2.0, 2: 1.5, 3: 1.0, 4: 0.75, 5: 0.75}
PEAK = 10 ** (-1 / 20)  # -1 dBFS


@dataclass(frozen=True)
class Note:
    """A note to play, in seconds."""

    start: float
    end: float
    pitch: int
    velocity: int = 80


@dataclass(frozen=True)
class Instrument:
    """A General MIDI program (bank 0) of one soundfont."""

    soundfont: Path
    program: int
    name: str


def bundled_soundfont() -> Path:
    """The General MIDI soundfont pretty_midi ships (TimGM6mb)."""
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def soundfonts(extra: Sequence[Path] = ()) -> list[Path]:
    """Usable SF2 files (midirenderer reads SF2, not SF3), without duplicates, bundled one first."""
    candidates = [bundled_soundfont(), *extra]
    for folder in SOUNDFONT_DIRS:
        if folder.is_dir():
            candidates += sorted(folder.glob("*.sf2"))
    unique, digests = [], set()
    for path in candidates:
        if not path.is_file():
            continue
        digest = _digest(path.resolve())
        if digest not in digests:
            digests.add(digest)
            unique.append(path)
    return unique


@functools.lru_cache(maxsize=None)
def _digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.sha1(stream.read(1 << 20)).hexdigest() + str(path.stat().st_size)


def available_instruments(extra_soundfonts: Sequence[Path] = ()) -> list[Instrument]:
    """Every piano-like program of every usable soundfont, in a stable order."""
    return [Instrument(path, program, f"{path.stem} {program}: {name}")
            for path in soundfonts(extra_soundfonts) for program, name in PIANO_PROGRAMS.items()]


def choose_instrument(rng: np.random.Generator, instruments: Sequence[Instrument]) -> Instrument:
    """An instrument drawn by rng, acoustic grands most often."""
    weights = np.array([PROGRAM_WEIGHTS[i.program] for i in instruments])
    return instruments[int(rng.choice(len(instruments), p=weights / weights.sum()))]


@functools.lru_cache(maxsize=4)
def _soundfont_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SheetsyncError(f"cannot read soundfont '{path}': {error}") from error


def midi_bytes(notes: Sequence[Note], program: int) -> bytes:
    """A one-track MIDI file whose ticks are samples at 22,050 Hz."""
    import mido

    events = []
    for note in notes:
        start = round(note.start * TICKS_PER_SECOND)
        end = max(start + 1, round(note.end * TICKS_PER_SECOND))
        # Sort keys: at equal ticks note-offs go first, so a repeated pitch strikes again.
        events.append((start, 1, "note_on", note.pitch, int(np.clip(note.velocity, 1, 127))))
        events.append((end, 0, "note_off", note.pitch, 0))
    events.sort()
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_SECOND)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    sounding: dict[int, int] = {}
    now = 0
    for tick, _, kind, pitch, velocity in events:
        if kind == "note_off":
            sounding[pitch] -= 1
            if sounding[pitch] > 0:
                continue  # an overlapping note of the same pitch still holds it
        else:
            sounding[pitch] = sounding.get(pitch, 0) + 1
        track.append(mido.Message(kind, note=pitch, velocity=velocity, time=tick - now))
        now = tick
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def render(notes: Sequence[Note], instrument: Instrument, sample_rate: int = 22050, tail: float = 1.0,
           normalise: bool = True) -> np.ndarray:
    """Mono float32 audio of `notes` from time 0 to the last note's end plus `tail` seconds."""
    import midirenderer
    import soundfile

    from sheetsync.audio.io import resample, to_mono

    if not notes:
        raise SheetsyncError("nothing to synthesise: no notes")
    font = _soundfont_bytes(Path(instrument.soundfont))
    try:
        wav = midirenderer.render_wave_from(font, midi_bytes(notes, instrument.program))
    except (ValueError, RuntimeError) as error:
        raise SheetsyncError(f"cannot synthesise with soundfont '{instrument.soundfont}': {error}") from error
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    audio = resample(to_mono(audio), rate, sample_rate)
    length = int(round((max(n.end for n in notes) + tail) * sample_rate))
    audio = np.pad(audio, (0, max(0, length - len(audio))))[:length]
    peak = float(np.abs(audio).max())
    if normalise and peak > 0:
        audio = audio * (PEAK / peak)
    return audio.astype(np.float32)
