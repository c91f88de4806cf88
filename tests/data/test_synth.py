import io
import shutil
from dataclasses import replace
from pathlib import Path

import mido
import numpy as np
import pytest
from scipy.signal import stft

from sheetsync.data.synth import (PEAK, Instrument, Note, available_instruments, bundled_soundfont, choose_instrument,
                                  midi_bytes, render, soundfonts)
from sheetsync.errors import SheetsyncError

RATE = 22050
INSTRUMENTS = available_instruments()


def sparse_melody() -> list[Note]:
    rng = np.random.default_rng(0)
    starts = np.cumsum(rng.uniform(0.4, 0.7, size=20)) + 0.1  # 0.3 s notes with gaps between them
    return [Note(float(s), float(s) + 0.3, int(p), int(v))
            for s, p, v in zip(starts, rng.integers(40, 90, size=20), rng.integers(50, 120, size=20))]


def onset_errors(audio: np.ndarray, starts: np.ndarray, search: float = 0.1) -> np.ndarray:
    """For each listed start, the time of the strongest spectral-flux peak within `search` s, minus the start."""
    hop, size = 55, 512  # 2.5 ms hop, 23 ms Hann frames
    _, _, spectrum = stft(audio, RATE, nperseg=size, noverlap=size - hop, boundary=None, padded=False)
    flux = np.maximum(np.diff(np.log1p(100 * np.abs(spectrum)), axis=1), 0).sum(axis=0)
    flux = np.convolve(flux, np.ones(3) / 3, mode="same")
    times = ((np.arange(len(flux)) + 0.5) * hop + size / 2) / RATE  # between the two frames' centres
    errors = []
    for start in starts:
        near = np.abs(times - start) <= search
        errors.append(times[near][np.argmax(flux[near])] - start)
    return np.array(errors)


def rms_db(audio: np.ndarray, start: float, end: float) -> float:
    part = audio[int(start * RATE):int(end * RATE)]
    return float(10 * np.log10(np.mean(part.astype(np.float64) ** 2) + 1e-20))


@pytest.fixture(scope="module")
def grand():
    return next(i for i in INSTRUMENTS if i.soundfont == bundled_soundfont() and i.program == 0)


def test_bundled_soundfont_is_always_there_first_with_all_piano_programs():
    assert bundled_soundfont().is_file()
    assert INSTRUMENTS[0].soundfont == bundled_soundfont()
    assert [i.program for i in INSTRUMENTS if i.soundfont == bundled_soundfont()] == [0, 1, 2, 3, 4, 5]
    assert INSTRUMENTS[0].name == "TimGM6mb 0: Piano 1"  # the preset's name, read from the file
    assert available_instruments() == INSTRUMENTS  # stable order


def test_each_soundfont_is_listed_once(tmp_path):
    names = [path.resolve().name.lower() for path in soundfonts()]
    assert len(names) == len(set(names))  # Debian's TimGM6mb and default-GM link do not come twice
    copy = tmp_path / "renamed.sf2"
    shutil.copyfile(bundled_soundfont(), copy)
    assert copy not in soundfonts([copy])  # same content, another name
    other = tmp_path / "other.sf2"
    data = bytearray(bundled_soundfont().read_bytes())
    data[500] ^= 0xFF  # one sample changed: another soundfont
    other.write_bytes(data)
    assert other in soundfonts([other])


def test_audio_starts_at_zero_and_lasts_until_the_last_note_plus_tail(grand):
    notes = sparse_melody()
    audio = render(notes, grand, tail=0.75)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == round((max(n.end for n in notes) + 0.75) * RATE)
    assert np.abs(audio[: int(0.45 * RATE)]).max() < 1e-3  # silence before the first note at >= 0.5 s
    assert np.abs(audio).max() == pytest.approx(PEAK, rel=1e-3)
    assert len(render(notes, grand, sample_rate=16000, tail=0.0)) == round(notes[-1].end * 16000)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=[i.name for i in INSTRUMENTS])
def test_every_note_sounds_within_30_ms_of_its_start(instrument):
    notes = sparse_melody()
    audio = render(notes, instrument)
    starts = np.array([n.start for n in notes])
    errors = onset_errors(audio, starts)
    assert np.abs(errors).max() <= 0.030, errors
    assert -0.006 <= np.median(errors) <= 0.010  # a small, steady lag
    assert np.mean(np.abs(onset_errors(audio, starts + 0.06)) <= 0.030) < 0.3  # the check can fail


def test_chords_sound_at_their_start(grand):
    starts = 0.5 + 0.7 * np.arange(8) + np.linspace(0, 0.05, 8)
    notes = [Note(float(s), float(s) + 0.5, p + i, 80) for i, s in enumerate(starts) for p in (48, 60, 64, 67)]
    audio = render(notes, grand)
    assert np.abs(onset_errors(audio, starts)).max() <= 0.030
    assert np.mean(np.abs(onset_errors(audio, starts - 0.06)) <= 0.030) < 0.3


def test_repeated_notes_strike_again(grand):
    starts = np.array([0.5, 1.0, 1.5, 2.0])  # each note ends where the next begins
    audio = render([Note(s, s + 0.5, 67, 90) for s in starts], grand)
    assert np.abs(onset_errors(audio, starts, search=0.2)).max() <= 0.030


def test_overlapping_notes_of_one_pitch_leave_nothing_stuck(grand):
    notes = [Note(0.0, 1.0, 60), Note(0.5, 1.5, 60), Note(0.7, 0.9, 60), Note(1.5, 2.0, 60)]
    events = [m for m in mido.MidiFile(file=io.BytesIO(midi_bytes(notes, 0))).tracks[0]
              if m.type in ("note_on", "note_off")]
    assert [m.type for m in events] == ["note_on"] * 3 + ["note_off", "note_on", "note_off"]
    audio = render(notes, grand, tail=1.5)
    assert rms_db(audio, 3.2, 3.5) < -50  # silent well after the last note-off
    held = render(notes[:3] + [Note(1.5, 3.5, 60)], grand, tail=0.0)
    assert rms_db(held, 3.2, 3.5) > -40  # a note still held would be heard there


def test_the_release_is_rendered_not_cut(grand):
    audio = render([Note(0.2, 1.0, 60, 100)], grand, tail=1.0)
    assert rms_db(audio, 1.0, 1.05) > -40  # the release rings past the note-off
    assert rms_db(audio, 1.0, 1.05) > rms_db(audio, 1.3, 1.35) + 6  # and dies away


def test_programs_sound_different():
    notes = [Note(0.1, 0.6, 60, 90), Note(0.7, 1.2, 48, 90), Note(1.3, 1.8, 72, 90)]
    for font in soundfonts():
        spectra = {i.program: np.log1p(np.abs(np.fft.rfft(render(notes, i, tail=0.2))))
                   for i in INSTRUMENTS if i.soundfont == font}
        grand, electric = spectra[0], spectra[4]
        assert np.corrcoef(grand, electric)[0, 1] < 0.95
        for program, spectrum in spectra.items():
            if program != 0:
                assert np.corrcoef(grand, spectrum)[0, 1] < 0.999, (font, program)


def test_choice_is_seeded_and_varied():
    picks = [choose_instrument(np.random.default_rng(7), INSTRUMENTS) for _ in range(3)]
    assert picks[0] == picks[1] == picks[2]
    drawn = [choose_instrument(np.random.default_rng(s), INSTRUMENTS).program for s in range(200)]
    assert len(set(drawn)) == 6 and max(set(drawn), key=drawn.count) == 0  # grands most often
    with pytest.raises(SheetsyncError):
        choose_instrument(np.random.default_rng(0), [])


def test_missing_or_unreadable_soundfonts_are_named(grand, tmp_path):
    with pytest.raises(SheetsyncError, match="missing.sf2"):
        render([Note(0.0, 0.5, 60)], replace(grand, soundfont=Path("/nowhere/missing.sf2")))
    garbage = tmp_path / "garbage.sf2"
    garbage.write_bytes(b"not a soundfont" * 100)
    with pytest.raises(SheetsyncError, match="garbage.sf2"):
        render([Note(0.0, 0.5, 60)], Instrument(garbage, 0, "garbage"))
    for path in (Path("/nowhere/missing.sf2"), garbage, tmp_path / "compressed.sf3"):
        with pytest.raises(SheetsyncError, match=path.name):
            available_instruments([path])

