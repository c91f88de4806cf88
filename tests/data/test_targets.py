import numpy as np
import pytest

from sheetsync.data.format import Onset, Page, Piece, System
from sheetsync.data.targets import band_masks, onset_groups, track, track_at


def piece(onsets, systems=((0, (10, 100, 500, 200)), (0, (10, 300, 500, 400)), (1, (10, 100, 500, 200)))):
    return Piece("p", "t", "s", "e", "a.flac", (Page("1.png", 600, 800, 100), Page("2.png", 600, 800, 100)),
                 tuple(System(p, b) for p, b in systems), tuple(onsets))


ONSETS = [Onset(1.0, 0, 0, 100.0), Onset(1.0, 0, 0, 104.0), Onset(2.0, 0, 0, 200.0), Onset(3.0, 0, 1, 50.0),
          Onset(4.0, 0, 1, 150.0), Onset(5.0, 1, 2, 60.0)]


def test_rows_sharing_a_time_are_one_onset():
    times, systems, xs = onset_groups(piece(ONSETS))
    assert list(times) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert xs[0] == pytest.approx(102.0)


def test_position_interpolates_within_a_system_only():
    result = track_at(piece(ONSETS), np.array([0.5, 1.0, 1.5, 2.5, 3.5, 4.5, 6.0]))
    assert list(result.page) == [-1, 0, 0, 0, 0, 0, 1]
    assert list(result.system) == [-1, 0, 0, 0, 1, 1, 2]
    assert np.isnan(result.x[0])
    assert result.x[1:4] == pytest.approx([102.0, 151.0, 200.0])  # holds at the system's last onset
    assert result.x[4] == pytest.approx(100.0)
    assert result.x[5] == pytest.approx(150.0) and result.x[6] == pytest.approx(60.0)


def test_no_sweep_back_over_a_repeat():
    repeat = [Onset(1.0, 0, 0, 300.0), Onset(2.0, 0, 0, 100.0)]
    assert track_at(piece(repeat), np.array([1.5])).x[0] == pytest.approx(300.0)


def test_track_has_one_entry_per_frame():
    assert len(track(piece(ONSETS), 140)) == 140


def test_band_masks_span_the_system_height():
    masks = band_masks(np.array([125.0, np.nan]), np.array([50.0, 50.0]), np.array([100.0, 100.0]), (400, 300))
    rows, cols = np.nonzero(masks[0])
    assert rows.min() == 50 and rows.max() == 100
    assert cols.min() == 120 and cols.max() == 129
    assert masks[1].sum() == 0
