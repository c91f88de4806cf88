import numpy as np
import pytest
import soundfile

from sheetsync.audio.io import load_audio
from sheetsync.errors import SheetsyncError


def test_stereo_44k_file_becomes_mono_22k(tmp_path):
    t = np.arange(44100) / 44100
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "take.wav"
    soundfile.write(path, np.stack([left, np.zeros_like(left)], axis=1), 44100)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == 22050
    assert np.abs(audio[1000:-1000]).max() == pytest.approx(0.25, abs=0.01)  # mean of the two channels


def test_flac_at_the_feature_rate_is_read_as_is(tmp_path):
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 5000).astype(np.float32)
    path = tmp_path / "take.flac"
    soundfile.write(path, signal, 22050, subtype="PCM_24")
    np.testing.assert_allclose(load_audio(path), signal, atol=1e-6)


@pytest.mark.parametrize("name, content, message", [
    ("missing.flac", None, "does not exist"),
    ("notes.flac", b"these are not samples", "cannot read audio file"),
])
def test_bad_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SheetsyncError, match=message) as error:
        load_audio(path)
    assert name in str(error.value)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros(0, np.float32), 22050)
    with pytest.raises(SheetsyncError, match="no samples"):
        load_audio(path)
