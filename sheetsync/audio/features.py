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
import scipy.fft

SAMPLE_RATE = 22050
FPS = 20
FRAME_SIZE = 2048
HOP_SIZE = SAMPLE_RATE / FPS
N_BINS = 78
BANDS_PER_OCTAVE = 12
FMIN, FMAX, FREF = 60.0, 6000.0, 440.0
_HALF = FRAME_SIZE // 2
_CHUNK = 512  # frames transformed at once: bounds memory on long signals
_WINDOW = np.hanning(FRAME_SIZE)  # symmetric, float64 like madmom's


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
                                   np.linspace(1, 0, stop - centre, endpoint=False)]).astype(np.float32)
        triangle /= triangle.sum()  # in float32, as madmom does: the same weights to the last bit
        np.maximum(bank[start:stop, band], triangle, out=bank[start:stop, band])
    assert bank.shape[1] == N_BINS
    bank.flags.writeable = False
    return bank


@functools.lru_cache(maxsize=1)
def _sparse_filterbank() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The filterbank's ~1,000 non-zero weights: FFT bins, weights, and where each band's run starts."""
    bank = filterbank()
    bands = [np.flatnonzero(bank[:, band]) for band in range(N_BINS)]
    weights = np.concatenate([bank[bins, band] for band, bins in enumerate(bands)])
    starts = np.cumsum([0] + [len(bins) for bins in bands[:-1]])
    return np.concatenate(bands), weights, starts


def frame_count(n_samples: int) -> int:
    """Frames madmom makes of a signal of this length: ceil(n / 1102.5)."""
    return -(-n_samples * FPS // SAMPLE_RATE)


def _centres(first: int, stop: int) -> np.ndarray:
    """Centre samples of frames first..stop-1: int(i * 1102.5), in exact integers."""
    return np.arange(first, stop, dtype=np.int64) * SAMPLE_RATE // FPS


def _as_signal(signal: np.ndarray) -> np.ndarray:
    """Float32 samples; integers scaled by their type's maximum, as madmom does."""
    signal = np.asarray(signal)
    if signal.ndim != 1:
        raise ValueError(f"expected a mono signal (one dimension), got shape {signal.shape}")
    if signal.dtype.kind in "iu":
        return (signal / np.iinfo(signal.dtype).max).astype(np.float32)
    return signal.astype(np.float32, copy=False)


def _spectra(frames: np.ndarray) -> np.ndarray:
    bins, weights, starts = _sparse_filterbank()
    # madmom: float64 window and FFT, complex64 STFT, float32 magnitudes, filter and log
    spectra = scipy.fft.rfft(frames * _WINDOW, axis=-1)[..., :bins[-1] + 1].astype(np.complex64)
    # each band summed in a fixed order, unlike a matrix product whose rounding depends on the
    # number of frames: streaming equals whole-file bit for bit
    filtered = np.add.reduceat(np.abs(spectra)[..., bins] * weights, starts, axis=-1)
    return np.log10(1 + filtered)


def _spectra_at(samples: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Features of the frames of `samples` beginning at `starts`."""
    if len(starts) == 1:
        return _spectra(samples[starts[0]:starts[0] + FRAME_SIZE][None])
    chunks = [_spectra(samples[starts[i:i + _CHUNK, None] + np.arange(FRAME_SIZE)])
              for i in range(0, len(starts), _CHUNK)]
    return np.concatenate(chunks) if chunks else np.zeros((0, N_BINS), dtype=np.float32)


def spectrogram(signal: np.ndarray) -> np.ndarray:
    """(frames, 78) float32 features of a whole mono 22,050 Hz signal."""
    signal = _as_signal(signal)
    padded = np.pad(signal, (_HALF, _HALF))
    return _spectra_at(padded, _centres(0, frame_count(len(signal))))


class StreamingSpectrogram:
    """The same frames as `spectrogram`, from audio arriving in blocks of any size."""

    _CAPACITY = 4 * FRAME_SIZE

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget all audio: the next block starts a new signal."""
        self._buffer = np.zeros(self._CAPACITY, dtype=np.float32)
        self._length = _HALF  # samples held, starting with the zeros before the signal
        self._offset = -_HALF  # signal index of _buffer[0]
        self._received = 0
        self._next = 0  # the first frame not yet emitted

    def push(self, block: np.ndarray) -> np.ndarray:
        """(k, 78) frames completed by this block, each as soon as every sample it needs has arrived."""
        block = _as_signal(block)
        self._append(block)
        self._received += len(block)
        # frame i is complete once int(i * 1102.5) + 1024 <= received
        return self._emit(max(0, frame_count(self._received - _HALF + 1)))

    def finish(self) -> np.ndarray:
        """The remaining frames, zero-padded past the end of the signal; the stream then starts over."""
        self._append(np.zeros(_HALF, dtype=np.float32))
        frames = self._emit(frame_count(self._received))
        self.reset()
        return frames

    def _append(self, block: np.ndarray) -> None:
        if self._length + len(block) > len(self._buffer):
            keep = int(_centres(self._next, self._next + 1)[0]) - _HALF - self._offset
            kept = self._buffer[keep:self._length]
            if len(kept) + len(block) > len(self._buffer) or len(self._buffer) > self._CAPACITY:
                self._buffer = np.zeros(max(self._CAPACITY, len(kept) + len(block)), dtype=np.float32)
            self._buffer[:len(kept)] = kept  # numpy copies overlapping ranges correctly
            self._length = len(kept)
            self._offset += keep
        self._buffer[self._length:self._length + len(block)] = block
        self._length += len(block)

    def _emit(self, stop: int) -> np.ndarray:
        if stop <= self._next:
            return np.zeros((0, N_BINS), dtype=np.float32)
        starts = _centres(self._next, stop) - _HALF - self._offset
        self._next = stop
        return _spectra_at(self._buffer, starts)
