import numpy as np
import pytest

from sheetsync.tracking.tempo import TempoEstimator


def feed(estimator, times, positions):
    return [estimator.update(t, p) for t, p in zip(times, positions)]


def test_steady_playing_gives_its_measures_per_minute():
    times = np.arange(0, 6, 0.05)
    tempo = feed(TempoEstimator(), times, 1 + times * 0.5)  # half a measure a second
    assert tempo[0] is None  # not before two seconds were heard
    assert tempo[-1] == pytest.approx(30.0, rel=1e-6)


def test_a_jump_starts_afresh_and_a_hold_reads_zero():
    estimator = TempoEstimator()
    times = np.arange(0, 5, 0.05)
    feed(estimator, times, 1 + times)
    assert estimator.update(5.0, 2.0) is None  # back four measures: a repeat
    later = np.arange(5.05, 9, 0.05)
    assert feed(estimator, later, np.full(len(later), 2.0))[-1] == pytest.approx(0.0, abs=1e-9)


def test_unknown_measures_keep_the_last_estimate():
    estimator = TempoEstimator()
    times = np.arange(0, 3, 0.05)
    last = feed(estimator, times, 1 + times / 2)[-1]
    assert estimator.update(3.05, None) == last
