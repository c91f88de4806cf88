import numpy as np
import pytest

from sheetsync.audio.features import (FPS, HOP_SIZE, N_BINS, SAMPLE_RATE, StreamingSpectrogram, filterbank,
                                      frame_count, spectrogram)
from tests._services import require
from tests.audio.madmom_reference import import_madmom


def test_signal(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Noise, a chirp and decaying piano-like tones: energy across the whole filterbank."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chirp = np.sin(2 * np.pi * (60 * t + (6000 - 60) / (2 * seconds) * t ** 2))
    tones = sum(np.sin(2 * np.pi * f * t) * np.exp(-3 * ((t - s) % 1.0)) for f, s in ((220, 0), (523.25, 0.3), (1760, 0.6)))
    return (0.05 * rng.normal(size=t.size) + 0.3 * chirp + 0.2 * tones).astype(np.float32)


test_signal.__test__ = False


def test_shape_and_frame_count():
    signal = test_signal(2.0)
    features = spectrogram(signal)
    assert features.shape == (frame_count(len(signal)), N_BINS) == (40, 78)
    assert features.dtype == np.float32
    assert frame_count(int(HOP_SIZE * 10) + 1) == 11


def test_filterbank_has_78_normalised_bands():
    bank = filterbank()
    assert bank.shape == (1024, 78)
    assert np.allclose(bank.sum(axis=0), 1.0, atol=1e-5)


def test_sine_peaks_in_the_band_of_its_frequency():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    low = spectrogram(np.sin(2 * np.pi * 220 * t).astype(np.float32))[5:15].mean(axis=0).argmax()
    high = spectrogram(np.sin(2 * np.pi * 880 * t).astype(np.float32))[5:15].mean(axis=0).argmax()
    assert high - low == pytest.approx(24, abs=2)  # two octaves at 12 bands per octave


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_streaming_equals_whole_signal(seed):
    signal = test_signal(2.5, seed)
    rng = np.random.default_rng(seed)
    stream = StreamingSpectrogram()
    parts, start = [], 0
    sizes = [1, 7, 4096, 1102, len(signal)]
    while start < len(signal):
        size = int(rng.choice(sizes)) if rng.random() < 0.3 else int(rng.integers(1, 3000))
        parts.append(stream.push(signal[start:start + size]))
        start += size
    parts.append(stream.finish())
    np.testing.assert_allclose(np.concatenate(parts), spectrogram(signal), atol=1e-6)


def test_streaming_emits_each_frame_as_soon_as_its_samples_are_in():
    stream = StreamingSpectrogram()
    assert len(stream.push(np.zeros(1023, np.float32))) == 0
    assert len(stream.push(np.zeros(1, np.float32))) == 1  # frame 0 needs samples up to 1024
    emitted = len(stream.push(np.zeros(int(HOP_SIZE * 3), np.float32)))
    assert emitted == 3


def test_int16_is_scaled_like_madmom():
    signal = test_signal(1.0)
    as_int = (signal / np.abs(signal).max() * 20000).astype(np.int16)
    np.testing.assert_allclose(spectrogram(as_int), spectrogram(as_int.astype(np.float32) / 32767), atol=1e-6)


def test_matches_madmom():
    madmom = import_madmom()
    require(madmom is not None, "madmom is not installed (CI installs it with .ci/install-madmom.sh)")
    from madmom.audio.spectrogram import LogarithmicFilteredSpectrogram

    signal = test_signal(4.0, seed=5)
    reference = LogarithmicFilteredSpectrogram(signal, sample_rate=SAMPLE_RATE, num_channels=1, frame_size=2048,
                                               fps=FPS, num_bands=12, fmin=60, fmax=6000, norm_filters=True,
                                               unique_filters=False)
    np.testing.assert_allclose(spectrogram(signal), np.asarray(reference), atol=1e-5)
