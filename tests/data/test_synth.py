from pathlib import Path

import numpy as np
import pytest

from sheetsync.data.synth import Note, available_instruments, bundled_soundfont, choose_instrument, midi_bytes, render
from sheetsync.errors import SheetsyncError
from tests.data.onsets import detect_onsets, matched_share

RATE = 22050


def sparse_melody() -> list[Note]:
    rng = np.random.default_rng(0)
    starts = np.cumsum(rng.uniform(0.2, 0.6, size=24)) + 0.3
    return [Note(float(s), float(s) + 0.3, int(p), 90) for s, p in zip(starts, rng.integers(48, 84, size=24))]


@pytest.fixture(scope="module")
def grand():
    return next(i for i in available_instruments() if i.soundfont == bundled_soundfont() and i.program == 0)


def test_bundled_soundfont_is_always_available():
    instruments = available_instruments()
    assert bundled_soundfont().is_file()
    assert {i.program for i in instruments if i.soundfont == bundled_soundfont()} == {0, 1, 2, 3, 4, 5}


def test_audio_starts_at_zero_and_lasts_until_the_last_note_plus_tail(grand):
    notes = sparse_melody()
    audio = render(notes, grand, tail=0.75)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == round((notes[-1].end + 0.75) * RATE)
    assert np.abs(audio[: int(0.25 * RATE)]).max() < 1e-3  # silence before the first note at >= 0.5 s
    assert np.abs(audio).max() == pytest.approx(10 ** (-1 / 20), rel=1e-3)


def test_every_note_sounds_within_30_ms_of_its_start(grand):
    notes = sparse_melody()
    detected = detect_onsets(render(notes, grand), RATE)
    starts = np.array([n.start for n in notes])
    assert matched_share(starts, detected) == 1.0
    assert matched_share(starts + 0.08, detected) < 0.3  # the check can fail


def test_chords_sound_at_their_start(grand):
    notes = [Note(0.5 + i * 0.7, 1.0 + i * 0.7, p, 80) for i in range(8) for p in (60 + i, 64 + i, 67 + i)]
    detected = detect_onsets(render(notes, grand), RATE)
    assert matched_share(np.array([0.5 + i * 0.7 for i in range(8)]), detected) == 1.0


def test_repeated_and_overlapping_notes_leave_nothing_stuck():
    import mido

    notes = [Note(0.0, 1.0, 60), Note(0.5, 1.5, 60), Note(1.5, 2.0, 60)]
    events = [m for m in mido.MidiFile(file=__import__("io").BytesIO(midi_bytes(notes, 0))).tracks[0]
              if m.type in ("note_on", "note_off")]
    on = sum(m.type == "note_on" for m in events)
    off = sum(m.type == "note_off" for m in events)
    assert on == 3 and off == 2  # the overlap keeps one key down; the last note-off releases everything
    assert events[-1].type == "note_off"


def test_programs_sound_different(grand):
    instruments = available_instruments()
    electric = next(i for i in instruments if i.soundfont == grand.soundfont and i.program == 4)
    notes = [Note(0.2, 1.2, 60)]
    spectrum = lambda audio: np.abs(np.fft.rfft(audio[:RATE]))  # noqa: E731
    a, b = spectrum(render(notes, grand)), spectrum(render(notes, electric))
    assert np.corrcoef(a, b)[0, 1] < 0.95


def test_choice_is_seeded():
    instruments = available_instruments()
    picks = [choose_instrument(np.random.default_rng(7), instruments) for _ in range(3)]
    assert picks[0] == picks[1] == picks[2]
    assert len({choose_instrument(np.random.default_rng(s), instruments) for s in range(40)}) > 3


def test_missing_soundfont_is_named(grand):
    from dataclasses import replace

    with pytest.raises(SheetsyncError, match="missing.sf2"):
        render([Note(0.0, 0.5, 60)], replace(grand, soundfont=Path("/nowhere/missing.sf2")))
