import numpy as np
import pytest

from sheetsync.score.layout import PageLayout, SystemLayout
from sheetsync.tracking.continuity import Continuity, ContinuitySettings, progress_map

LAYOUT = PageLayout((SystemLayout((10, 10, 110, 30), (), 2), SystemLayout((10, 60, 110, 80), (), 2)))


def test_progress_runs_along_each_system_in_reading_order():
    progress = progress_map(LAYOUT, first_system=3, shape=(50, 60), scale=0.5)  # model pixels: half the page
    assert progress[10, 5] == pytest.approx(3.0) and progress[10, 55] == pytest.approx(4.0)
    assert progress[35, 30] == pytest.approx(4.5, abs=0.02)  # the second system, half way
    assert np.all(np.diff(progress[10]) >= 0)
    assert progress[0, 30] == progress[10, 30] and progress[49, 30] == progress[35, 30]  # margins: nearest system
    assert progress[22, 30] == progress[10, 30] and progress[24, 30] == progress[35, 30]  # between: nearest one
    assert np.isnan(progress_map(PageLayout(()), 0, (5, 5), 1.0)).all()


def test_the_gate_is_open_near_the_last_position_and_low_far_from_it():
    settings = ContinuitySettings()
    continuity = Continuity([progress_map(LAYOUT, 0, (50, 60), 0.5)], settings)
    continuity.reset(0.5)
    gate = continuity.gate(0)
    assert gate[10, 30] == pytest.approx(1.0)  # the position itself
    assert gate[10, 5] < 1.0 and gate[10, 5] > settings.floor  # a bit behind, beyond `behind`
    assert gate[35, 55] == pytest.approx(settings.floor, abs=1e-3)  # the end of the next system
    continuity.reset(None)
    assert continuity.gate(0) is None
    assert Continuity([progress_map(LAYOUT, 0, (50, 60), 0.5)], ContinuitySettings(enabled=False)).gate(0) is None
    assert Continuity([progress_map(PageLayout(()), 0, (5, 5), 1.0)]).gate(0) is None


def test_the_position_follows_sure_gated_readings_and_holds_through_silence():
    continuity = Continuity([progress_map(LAYOUT, 0, (50, 60), 0.5)])
    continuity.reset(0.0)
    assert not continuity.update(0.0, 0.8, 0.1, 0.8, 0.1)
    assert continuity.position == 0.1
    continuity.update(0.05, 0.1, 1.5, 0.1, 1.5)  # too unsure: it holds
    assert continuity.position == 0.1


def test_while_unsure_the_position_moves_on_at_its_pace():
    continuity = Continuity([progress_map(LAYOUT, 0, (50, 60), 0.5)])
    continuity.reset(0.0)
    for frame in range(80):  # 4 s at a steady tenth of a system a second
        continuity.update(frame / 20, 0.9, frame / 200, 0.9, frame / 200)
    held = continuity.position
    continuity.update(4.0, 0.1, None, 0.1, None)
    assert continuity.position == pytest.approx(held + 0.1 / 20, rel=0.05)


def test_a_surer_place_elsewhere_takes_over_only_after_it_lasts():
    settings = ContinuitySettings(relocate_frames=5, relocate_margin=0.2)
    continuity = Continuity([progress_map(LAYOUT, 0, (50, 60), 0.5)], settings)
    continuity.reset(0.2)
    moves = [continuity.update(0.0, 0.4, 0.25, 0.9, 1.6) for _ in range(4)]
    assert moves == [False] * 4 and continuity.position == 0.25
    continuity.update(0.0, 0.8, 0.3, 0.9, 1.6)  # not surer by the margin: the count starts again
    assert [continuity.update(0.0, 0.4, 0.3, 0.9, 1.6) for _ in range(5)] == [False] * 4 + [True]
    assert continuity.position == 1.6
