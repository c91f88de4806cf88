import numpy as np
import pytest
import soundfile

from sheetsync.audio.io import load_audio, resample, to_mono
from sheetsync.errors import SheetsyncError


def peak_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[spectrum.argmax()])


def test_stereo_44k_file_becomes_mono_22k(tmp_path):
    t = np.arange(44100) / 44100
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "take.wav"
    soundfile.write(path, np.stack([left, np.zeros_like(left)], axis=1), 44100)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == 22050  # one second at the feature rate
    assert peak_frequency(audio, 22050) == pytest.approx(440, abs=1)
    assert np.abs(audio[1000:-1000]).max() == pytest.approx(0.25, abs=0.01)  # mean of the two channels


def test_flac_at_the_feature_rate_is_read_as_is(tmp_path):
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 5000).astype(np.float32)
    path = tmp_path / "take.flac"
    soundfile.write(path, signal, 22050, subtype="PCM_24")
    np.testing.assert_allclose(load_audio(path), signal, atol=1e-6)


def test_other_target_rates(tmp_path):
    t = np.arange(48000) / 48000
    path = tmp_path / "take.ogg"
    soundfile.write(path, 0.5 * np.sin(2 * np.pi * 1000 * t), 48000)
    audio = load_audio(path, sample_rate=16000)
    assert abs(len(audio) - 16000) <= 1
    assert peak_frequency(audio, 16000) == pytest.approx(1000, abs=2)


def test_to_mono_and_resample():
    stereo = np.array([[1.0, 0.0], [0.5, 0.5], [-1.0, 1.0]], dtype=np.float32)
    np.testing.assert_array_equal(to_mono(stereo), [0.5, 0.5, 0.0])
    mono = np.arange(4, dtype=np.float32)
    assert to_mono(mono) is mono and resample(mono, 22050, 22050) is mono
    sine = np.sin(2 * np.pi * 300 * np.arange(44100) / 44100).astype(np.float32)
    down = resample(sine, 44100, 22050)
    assert down.dtype == np.float32 and len(down) == 22050
    assert peak_frequency(down, 22050) == pytest.approx(300, abs=1)


@pytest.mark.parametrize("name, content, message", [
    ("missing.flac", None, "does not exist"),
    ("folder.wav", "dir", "is a directory"),
    ("notes.flac", b"these are not samples", "Format not recognised"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SheetsyncError, match=message) as error:
        load_audio(path)
    assert str(error.value).startswith(f"cannot read audio file '{path}'")


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros(0, np.float32), 22050)
    with pytest.raises(SheetsyncError, match="empty.wav.*no samples"):
        load_audio(path)
