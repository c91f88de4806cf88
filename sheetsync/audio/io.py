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
    """High-quality sample-rate conversion (soxr) of (samples,) or (samples, channels) audio."""
    if from_rate == to_rate:
        return audio
    import soxr

    return soxr.resample(audio, from_rate, to_rate).astype(audio.dtype, copy=False)


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A file's audio as mono float32 at `sample_rate`; SheetsyncError for missing, unreadable or empty files."""
    import soundfile

    path = Path(path)

    def fail(problem: str) -> SheetsyncError:
        return SheetsyncError(f"cannot read audio file '{path}': {problem}")

    if not path.exists():
        raise fail("it does not exist")
    if path.is_dir():
        raise fail("it is a directory")
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except soundfile.LibsndfileError as error:
        raise fail(error.error_string) from error
    except (soundfile.SoundFileError, OSError) as error:
        raise fail(str(error)) from error
    if audio.size == 0:
        raise fail("it holds no samples")
    return resample(to_mono(audio), rate, sample_rate).astype(np.float32, copy=False)
