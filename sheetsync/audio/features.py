"""The paper's audio features: madmom's LogarithmicFilteredSpectrogram, in numpy.

22,050 Hz mono; frames of 2048 samples at 20 per second (frame i centred on
sample int(i * 1102.5), zero beyond the signal); symmetric Hann window;
magnitude of the first 1024 FFT bins; a logarithmic filterbank of 12 bands per
octave from 60 to 6000 Hz (normalised triangular filters, duplicates kept:
78 bands); log10(1 + x). `spectrogram` does a whole signal, and
`StreamingSpectrogram` the same frames from blocks of any size.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_RATE = 22050
FPS = 20
FRAME_SIZE = 2048
HOP_SIZE = SAMPLE_RATE / FPS
N_BINS = 78
BANDS_PER_OCTAVE = 12
FMIN, FMAX, FREF = 60.0, 6000.0, 440.0
_HALF = FRAME_SIZE // 2


@functools.lru_cache(maxsize=1)
def filterbank() -> np.ndarray:
    """The (1024, 78) logarithmic filterbank, built as madmom builds it."""
    bin_frequencies = np.fft.fftfreq(FRAME_SIZE, 1.0 / SAMPLE_RATE)[:_HALF]
    left = np.floor(np.log2(FMIN / FREF) * BANDS_PER_OCTAVE)
    right = np.ceil(np.log2(FMAX / FREF) * BANDS_PER_OCTAVE)
    frequencies = FREF * 2.0 ** (np.arange(left, right) / BANDS_PER_OCTAVE)
    frequencies = frequencies[np.searchsorted(frequencies, FMIN):]
    frequencies = frequencies[:np.searchsorted(frequencies, FMAX, "right")]
    indices = np.clip(bin_frequencies.searchsorted(frequencies), 1, len(bin_frequencies) - 1)
    nearer_left = frequencies - bin_frequencies[indices - 1] < bin_frequencies[indices] - frequencies
    bins = indices - nearer_left
    bank = np.zeros((len(bin_frequencies), len(bins) - 2), dtype=np.float32)
    for band, (start, centre, stop) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:])):
        if stop - start < 2:
            centre, stop = start, start + 1
        triangle = np.concatenate([np.linspace(0, 1, centre - start, endpoint=False),
                                   np.linspace(1, 0, stop - centre, endpoint=False)])
        triangle /= triangle.sum()
        np.maximum(bank[start:stop, band], triangle, out=bank[start:stop, band])
    assert bank.shape[1] == N_BINS
    return bank


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return np.hanning(FRAME_SIZE).astype(np.float32)


def frame_count(n_samples: int) -> int:
    """Frames madmom makes of a signal of this length (its 'normal' end)."""
    return int(np.ceil(n_samples / HOP_SIZE))


def _as_float(signal: np.ndarray) -> np.ndarray:
    signal = np.asarray(signal)
    if signal.dtype == np.int16:
        return signal.astype(np.float32) / np.iinfo(np.int16).max
    return signal.astype(np.float32, copy=False)


def _spectra(frames: np.ndarray) -> np.ndarray:
    magnitudes = np.abs(np.fft.rfft(frames * _window(), axis=-1)[..., :_HALF]).astype(np.float32)
    return np.log10(1.0 + magnitudes @ filterbank())


def spectrogram(signal: np.ndarray) -> np.ndarray:
    """(frames, 78) float32 features of a whole mono 22,050 Hz signal."""
    signal = _as_float(signal)
    count = frame_count(len(signal))
    if count == 0:
        return np.zeros((0, N_BINS), dtype=np.float32)
    centres = (np.arange(count) * HOP_SIZE).astype(np.int64)
    padded = np.pad(signal, (_HALF, _HALF + FRAME_SIZE))
    chunks = [_spectra(padded[centres[i:i + 512, None] + np.arange(FRAME_SIZE)]) for i in range(0, count, 512)]
    return np.concatenate(chunks)


class StreamingSpectrogram:
    """The same frames as `spectrogram`, from audio arriving in blocks of any size."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(_HALF, dtype=np.float32)  # the zeros before the signal
        self._buffer_start = -_HALF  # signal index of _buffer[0]
        self._received = 0
        self._next = 0

    def push(self, block: np.ndarray) -> np.ndarray:
        """Frames completed by this block (each as soon as every sample it needs has arrived)."""
        block = _as_float(block)
        self._buffer = np.concatenate([self._buffer, block])
        self._received += len(block)
        return self._emit(lambda centre: centre + _HALF <= self._received)

    def finish(self) -> np.ndarray:
        """The remaining frames, zero-padded past the end of the signal."""
        total = frame_count(self._received)
        self._buffer = np.concatenate([self._buffer, np.zeros(FRAME_SIZE, dtype=np.float32)])
        frames = self._emit(lambda centre: self._next < total)
        return frames

    def _emit(self, ready) -> np.ndarray:
        starts = []
        while ready(int(self._next * HOP_SIZE)):
            starts.append(int(self._next * HOP_SIZE) - _HALF - self._buffer_start)
            self._next += 1
        if not starts:
            return np.zeros((0, N_BINS), dtype=np.float32)
        frames = _spectra(self._buffer[np.array(starts)[:, None] + np.arange(FRAME_SIZE)])
        drop = int(self._next * HOP_SIZE) - _HALF - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop
        return frames
