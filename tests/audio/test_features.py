import itertools
import time

import numpy as np
import pytest

from sheetsync.audio.features import (FPS, FRAME_SIZE, HOP_SIZE, N_BINS, SAMPLE_RATE, StreamingSpectrogram,
                                      filterbank, frame_count, spectrogram)
from tests._services import require
from tests.audio.madmom_reference import import_madmom


def mixture(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Noise, a chirp and decaying piano-like tones: energy across the whole filterbank."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chirp = np.sin(2 * np.pi * (60 * t + (6000 - 60) / (2 * seconds) * t ** 2))
    tones = sum(np.sin(2 * np.pi * f * t) * np.exp(-3 * ((t - s) % 1.0)) for f, s in ((220, 0), (523.25, 0.3), (1760, 0.6)))
    return (0.05 * rng.normal(size=t.size) + 0.3 * chirp + 0.2 * tones).astype(np.float32)


def stream(signal: np.ndarray, sizes) -> np.ndarray:
    """Push `signal` in blocks of the given sizes (cycled), then finish; all frames together."""
    processor, parts, start = StreamingSpectrogram(), [], 0
    for size in itertools.cycle(sizes):
        if start >= len(signal):
            break
        parts.append(processor.push(signal[start:start + size]))
        start += size
    parts.append(processor.finish())
    return np.concatenate(parts)


def test_filterbank_has_78_normalised_bands_and_is_cached():
    bank = filterbank()
    assert bank.shape == (FRAME_SIZE // 2, N_BINS) and bank.dtype == np.float32
    np.testing.assert_allclose(bank.sum(axis=0), 1.0, atol=1e-5)
    assert filterbank() is bank


@pytest.mark.parametrize("n_samples, frames", [(0, 0), (1, 1), (1102, 1), (1103, 2), (2205, 2), (2206, 3),
                                               (SAMPLE_RATE, FPS), (SAMPLE_RATE + 1, FPS + 1)])
def test_frame_count_and_shape(n_samples, frames):
    assert frame_count(n_samples) == frames
    features = spectrogram(np.full(n_samples, 0.1, dtype=np.float32))
    assert features.shape == (frames, N_BINS) and features.dtype == np.float32


def test_frames_are_centred_on_int_i_times_hop_and_zero_padded():
    signal = mixture(1.0, seed=3)
    features = spectrogram(signal)
    padded = np.concatenate([np.zeros(FRAME_SIZE), signal, np.zeros(FRAME_SIZE)])
    for i in (0, 7, len(features) - 1):  # first (padded left), odd (centre 7717.5 -> 7717), last (padded right)
        start = int(i * HOP_SIZE) - FRAME_SIZE // 2 + FRAME_SIZE
        spectrum = np.abs(np.fft.rfft(padded[start:start + FRAME_SIZE] * np.hanning(FRAME_SIZE)))[:FRAME_SIZE // 2]
        np.testing.assert_allclose(features[i], np.log10(1 + spectrum @ filterbank()), atol=1e-6)


def test_an_impulse_at_a_frame_centre_reaches_that_frame_only():
    signal = np.zeros(SAMPLE_RATE, dtype=np.float32)
    signal[int(7 * HOP_SIZE)] = 1.0  # neighbouring frames are 1102 samples away, beyond their half-width 1024
    energy = spectrogram(signal).sum(axis=1)
    assert energy[7] > 1 and np.count_nonzero(energy) == 1


@pytest.mark.parametrize("frequency", [220.0, 440.0, 466.16, 1760.0, 3520.0])
def test_a_sine_peaks_in_its_semitone_band(frequency):
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    features = spectrogram(np.sin(2 * np.pi * frequency * t).astype(np.float32))
    band = 33 + round(12 * np.log2(frequency / 440))  # band 33 is centred on 440 Hz
    assert features[3:17].mean(axis=0).argmax() == band


@pytest.mark.parametrize("blocks", ["single samples", "one huge block", "hop sized", "random 0", "random 1"])
def test_streaming_equals_whole_signal(blocks):
    signal = mixture(0.4 if blocks == "single samples" else 2.5, seed=len(blocks))
    rng = np.random.default_rng(len(blocks))
    sizes = {"single samples": [1] * len(signal), "one huge block": [len(signal)],
             "hop sized": [1102, 1103]}.get(blocks)
    if sizes is None:
        sizes = rng.choice([1, 2, 7, 1023, 1024, 1102, 2048, 4096, 20000], size=1000).tolist()
        sizes = [s if rng.random() < 0.5 else int(rng.integers(1, 3000)) for s in sizes]
    np.testing.assert_allclose(stream(signal, sizes), spectrogram(signal), rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_samples", [1, 500, 1102, 2205, 3000])
def test_short_signals_stream_like_whole(n_samples):
    signal = mixture(1.0, seed=1)[:n_samples]
    np.testing.assert_allclose(stream(signal, [333]), spectrogram(signal), rtol=0, atol=1e-6)


def test_streaming_emits_each_frame_as_soon_as_its_samples_are_in():
    processor, emitted = StreamingSpectrogram(), 0
    signal = mixture(0.5)
    for n in range(1, 6000):
        emitted += len(processor.push(signal[n - 1:n]))
        # frame i needs samples up to int(i * 1102.5) + 1023
        assert emitted == sum(int(i * HOP_SIZE) + FRAME_SIZE // 2 <= n for i in range(10)), n


def test_finish_and_reset_start_a_new_signal():
    first, second = mixture(1.0, seed=1), mixture(0.7, seed=2)
    processor = StreamingSpectrogram()
    processor.push(first)
    processor.finish()
    np.testing.assert_allclose(np.concatenate([processor.push(second), processor.finish()]), spectrogram(second),
                               rtol=0, atol=1e-6)
    processor.push(first[:5000])
    processor.reset()
    assert len(processor.finish()) == 0
    np.testing.assert_allclose(np.concatenate([processor.push(second), processor.finish()]), spectrogram(second),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.int16, np.int32])
def test_integers_are_scaled_by_their_maximum_like_madmom(dtype):
    signal = mixture(1.0)
    as_int = (signal / np.abs(signal).max() * np.iinfo(dtype).max * 0.6).astype(dtype)
    expected = spectrogram((as_int / np.iinfo(dtype).max).astype(np.float32))
    np.testing.assert_allclose(spectrogram(as_int), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(stream(as_int, [1000]), expected, rtol=0, atol=1e-6)


def test_multichannel_input_is_refused():
    with pytest.raises(ValueError, match="mono"):
        spectrogram(np.zeros((SAMPLE_RATE, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="mono"):
        StreamingSpectrogram().push(np.zeros((100, 2), dtype=np.float32))


def test_streaming_cost_per_frame_is_small():
    signal, processor, costs = mixture(12.0), StreamingSpectrogram(), []
    for start in np.arange(0, len(signal), HOP_SIZE).astype(int):
        begin = time.perf_counter()
        frames = processor.push(signal[start:start + int(HOP_SIZE) + 1])
        costs.append((time.perf_counter() - begin) / max(len(frames), 1))
    assert np.median(costs) < 1e-3  # ~0.04 ms on a loaded 2-core machine; a frame lasts 50 ms


def test_matches_madmom():
    madmom = import_madmom()
    require(madmom is not None, "madmom is not installed (CI installs it with .ci/install-madmom.sh)")
    from madmom.audio.filters import LogarithmicFilterbank
    from madmom.audio.signal import FramedSignal
    from madmom.audio.spectrogram import LogarithmicFilteredSpectrogram
    from madmom.audio.stft import fft_frequencies

    reference_bank = LogarithmicFilterbank(fft_frequencies(FRAME_SIZE // 2, SAMPLE_RATE), num_bands=12, fmin=60,
                                           fmax=6000, norm_filters=True, unique_filters=False)
    np.testing.assert_array_equal(filterbank(), np.asarray(reference_bank))
    for n_samples in (1, 1102, 1103, 2205, 2206, 12345):
        assert frame_count(n_samples) == len(FramedSignal(np.zeros(n_samples, np.float32), frame_size=FRAME_SIZE,
                                                          fps=FPS, sample_rate=SAMPLE_RATE))
    signal = mixture(4.0, seed=5)
    for samples in (signal, signal.astype(np.float64), (signal / np.abs(signal).max() * 30000).astype(np.int16)):
        reference = LogarithmicFilteredSpectrogram(samples, sample_rate=SAMPLE_RATE, num_channels=1,
                                                   frame_size=FRAME_SIZE, fps=FPS, num_bands=12, fmin=60, fmax=6000,
                                                   norm_filters=True, unique_filters=False)
        assert reference.shape == (frame_count(len(samples)), N_BINS)
        np.testing.assert_allclose(spectrogram(samples), np.asarray(reference), rtol=0, atol=1e-6)
