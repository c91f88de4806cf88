"""A plain spectral-flux onset detector, to check synthesised audio against listed onset times."""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks, stft

HOP = 0.005


def detect_onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Times (s) of energy onsets: peaks of positive spectral flux on a 5 ms grid."""
    hop = int(HOP * sample_rate)
    _, _, spectrum = stft(audio, sample_rate, nperseg=1024, noverlap=1024 - hop, boundary=None, padded=False)
    magnitude = np.log1p(100 * np.abs(spectrum))
    flux = np.maximum(np.diff(magnitude, axis=1), 0).sum(axis=0)
    spread = np.median(flux) + 3 * np.median(np.abs(flux - np.median(flux)))
    # A floor relative to the strongest onsets: long-held tones otherwise fire again as they decay.
    threshold = max(spread, 0.25 * np.percentile(flux, 99.5))
    peaks, _ = find_peaks(flux, height=threshold, distance=int(0.05 / HOP))
    # flux[i] compares frames i and i+1; frame i is centred at i*hop + 512 samples
    return (peaks + 1) * hop / sample_rate + 512 / sample_rate


def matched_share(listed: np.ndarray, detected: np.ndarray, tolerance: float = 0.03) -> float:
    """Share of listed onset times with a detected onset within `tolerance` seconds."""
    if len(detected) == 0:
        return 0.0
    nearest = np.abs(listed[:, None] - detected[None, :]).min(axis=1)
    return float((nearest <= tolerance).mean())


def separated(times: np.ndarray, gap: float = 0.12) -> np.ndarray:
    """Distinct onset times at least `gap` after the previous one (clean targets for detection)."""
    unique = np.unique(times)
    keep = np.concatenate([[True], np.diff(unique) >= gap])
    return unique[keep]
