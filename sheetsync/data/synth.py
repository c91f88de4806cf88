"""Piano synthesis from exact note times with SoundFonts.

The synthesiser is midirenderer (rustysynth, from PyPI: no system library; SF2
only, 48 kHz stereo out). The MIDI file it renders has one tick per sample at
22,050 Hz, so note starts land where they were asked to; rustysynth applies
events at 64-sample block boundaries (up to 1.3 ms late). pretty_midi's General
MIDI soundfont is always there; Debian's soundfonts add timbres when installed.

Timbres are the General MIDI keyboard presets 0-5 (acoustic grand, bright,
electric grand, honky-tonk, two electric pianos). Harpsichord (6) and clavinet
(7) are left out: they are not what a pianist's recording sounds like, and some
harpsichord notes reach half their energy 30 ms after the key.
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from sheetsync.errors import SheetsyncError

TICKS_PER_SECOND = 22050  # ticks per beat at 1 beat per second: one tick per sample
SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/soundfonts"))
# General MIDI presets (bank 0) that sound like a keyboard a score follower should follow.
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
    """Usable SF2 files: the bundled one, then `extra`, then the system's, without duplicates.

    A duplicate has the same content or the same file name: Debian's TimGM6mb.sf2
    differs from pretty_midi's by a few bytes but renders the pianos alike.
    A missing or unreadable `extra` raises; unreadable system files are skipped.
    """
    for path in map(Path, extra):
        _presets(path)  # raises, naming the file
    found = []
    for folder in SOUNDFONT_DIRS:
        if folder.is_dir():
            found += sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".sf2" and p.is_file())
    unique, seen = [], set()
    for path in [bundled_soundfont(), *map(Path, extra), *found]:
        try:
            keys = {path.resolve().name.lower(), _digest(path.resolve())}
            _presets(path)
        except SheetsyncError:
            continue
        if not keys & seen:
            unique.append(path)
        seen |= keys
    return unique


@functools.lru_cache(maxsize=None)
def _digest(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            return hashlib.sha1(stream.read(1 << 20)).hexdigest() + str(path.stat().st_size)
    except OSError as error:
        raise SheetsyncError(f"cannot read soundfont '{path}': {error}") from error


@functools.lru_cache(maxsize=None)
def _presets(path: Path) -> dict[int, str]:
    """Bank-0 preset names by program, read from the SF2 file's phdr chunk."""
    if path.suffix.lower() == ".sf3":
        raise SheetsyncError(f"soundfont '{path}' is SF3; midirenderer reads SF2 only")
    try:
        with path.open("rb") as stream:
            riff, size, form = struct.unpack("<4sI4s", stream.read(12))
            if (riff, form) != (b"RIFF", b"sfbk"):
                raise ValueError("not a RIFF sfbk file")
            phdr = _find_chunk(stream, 12, 8 + size, [b"pdta", b"phdr"])
    except (OSError, ValueError, struct.error) as error:
        raise SheetsyncError(f"cannot read soundfont '{path}': {error}") from error
    presets = {}
    for offset in range(0, len(phdr) - 38, 38):  # 38-byte records, the last one a terminator
        name, program, bank = struct.unpack_from("<20sHH", phdr, offset)
        if bank == 0:
            presets[program] = name.split(b"\0")[0].decode("latin-1").strip()
    return presets


def _find_chunk(stream, start: int, stop: int, route: list[bytes]) -> bytes:
    """The data of the chunk reached by following `route` (LIST kinds, then a chunk id)."""
    stream.seek(start)
    while stream.tell() + 8 <= stop:
        chunk, size = struct.unpack("<4sI", stream.read(8))
        begin = stream.tell()
        if chunk == b"LIST" and stream.read(4) == route[0]:
            return _find_chunk(stream, begin + 4, begin + size, route[1:])
        if chunk == route[0] and len(route) == 1:
            return stream.read(size)
        stream.seek(begin + size + (size & 1))
    raise ValueError(f"no {route[-1].decode()} chunk")


def available_instruments(extra_soundfonts: Sequence[Path] = ()) -> list[Instrument]:
    """Every piano-like program present in every usable soundfont, in a stable order."""
    return [Instrument(path, program, f"{path.stem} {program}: {presets[program]}")
            for path in soundfonts(extra_soundfonts)
            for presets in [_presets(path)] for program in PIANO_PROGRAMS if program in presets]


def choose_instrument(rng: np.random.Generator, instruments: Sequence[Instrument]) -> Instrument:
    """An instrument drawn by rng, acoustic grands most often."""
    if not instruments:
        raise SheetsyncError("no instruments to choose from")
    weights = np.array([PROGRAM_WEIGHTS.get(i.program, 0.5) for i in instruments])
    return instruments[int(rng.choice(len(instruments), p=weights / weights.sum()))]


@functools.lru_cache(maxsize=4)
def _soundfont_bytes(path: Path) -> bytes:
    if path.suffix.lower() == ".sf3":
        raise SheetsyncError(f"soundfont '{path}' is SF3; midirenderer reads SF2 only")
    try:
        return path.read_bytes()
    except OSError as error:
        raise SheetsyncError(f"cannot read soundfont '{path}': {error}") from error


def midi_bytes(notes: Sequence[Note], program: int, length: float | None = None) -> bytes:
    """A one-track MIDI file whose ticks are samples at 22,050 Hz, ending at `length` seconds if given.

    At equal ticks note-offs go first, so a repeated pitch strikes again; a pitch
    held by overlapping notes is released when the last of them ends.
    """
    import mido

    events = []
    for note in notes:
        if note.start < 0:
            raise ValueError(f"note starts before 0: {note}")
        start = round(note.start * TICKS_PER_SECOND)
        end = max(start + 1, round(note.end * TICKS_PER_SECOND))
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
                continue  # an overlapping note of the same pitch still holds the key
        else:
            sounding[pitch] = sounding.get(pitch, 0) + 1
        track.append(mido.Message(kind, note=pitch, velocity=velocity, time=tick - now))
        now = tick
    # The renderer stops at the end of the track: without this, releases would be cut off.
    end = max(now, round(length * TICKS_PER_SECOND)) if length is not None else now
    track.append(mido.MetaMessage("end_of_track", time=end - now))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def render(notes: Sequence[Note], instrument: Instrument, sample_rate: int = 22050, tail: float = 1.0,
           normalise: bool = True) -> np.ndarray:
    """Mono float32 audio of `notes` from time 0 to the last note's end plus `tail` seconds.

    Peaks at -1 dBFS when `normalise`; otherwise at the soundfont's own level.
    """
    import midirenderer
    import soundfile

    from sheetsync.audio.io import resample, to_mono

    if not notes:
        raise SheetsyncError("nothing to synthesise: no notes")
    duration = max(n.end for n in notes) + tail
    font = _soundfont_bytes(Path(instrument.soundfont))
    try:
        wav = midirenderer.render_wave_from(font, midi_bytes(notes, instrument.program, duration))
    except (ValueError, RuntimeError) as error:
        raise SheetsyncError(f"cannot synthesise with soundfont '{instrument.soundfont}': {error}") from error
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    audio = resample(to_mono(audio), rate, sample_rate)
    length = int(round(duration * sample_rate))
    audio = np.pad(audio, (0, max(0, length - len(audio))))[:length]
    peak = float(np.abs(audio).max())
    if normalise and peak > 0:
        audio = audio * (PEAK / peak)
    return audio.astype(np.float32, copy=False)
