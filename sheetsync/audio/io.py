"""Reading audio: any format soundfile reads, mixed to mono, resampled to the feature rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sheetsync.audio.features import SAMPLE_RATE
from sheetsync.errors import SheetsyncError


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average the channels of (samples, channels) audio; mono passes through."""
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality sample-rate conversion (soxr)."""
    if from_rate == to_rate:
        return audio
    import soxr

    return soxr.resample(audio, from_rate, to_rate).astype(audio.dtype, copy=False)


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A file's audio as mono float32 at `sample_rate`; a clear error for missing, unreadable or empty files."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise SheetsyncError(f"audio file '{path}' does not exist")
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except Exception as error:  # libsndfile reports through several exception types
        raise SheetsyncError(f"cannot read audio file '{path}': {error}") from error
    if audio.size == 0:
        raise SheetsyncError(f"audio file '{path}' holds no samples")
    return resample(to_mono(audio), rate, sample_rate).astype(np.float32, copy=False)
