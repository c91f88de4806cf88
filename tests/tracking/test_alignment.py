import numpy as np
import pytest

from sheetsync.score.layout import PageLayout, SystemLayout
from sheetsync.tracking.alignment import Alignment, AlignmentSettings, ReadingOrder

TWO_SYSTEMS = PageLayout((SystemLayout((10, 10, 210, 30), (), 2), SystemLayout((10, 60, 210, 80), (), 2)))


def order(pages=(TWO_SYSTEMS, PageLayout(()), TWO_SYSTEMS)) -> ReadingOrder:
    return ReadingOrder(list(pages), [0.5] * len(pages), [(50, 120)] * len(pages))  # model pixels: half


def peaked(size: int, at: float, spread: float = 2.0) -> np.ndarray:
    return 0.05 + np.exp(-0.5 * ((np.arange(size) - at) / spread) ** 2)


def test_positions_run_through_every_system_in_reading_order():
    reading = order()
    assert len(reading) == 4 * 101  # columns 5..105 of each system, at half scale
    assert np.all(np.diff(reading.page) >= 0) and np.all(np.diff(reading.system) >= 0)
    assert set(reading.system) == {0, 1, 2, 3} and set(reading.page) == {0, 2}
    within = np.diff(reading.column)[np.diff(reading.system) == 0]
    assert np.all(within == 1)
    assert reading.top[0] == 5 and reading.bottom[0] == 16 and reading.top[101] == 30
    assert reading.of_page(2) == slice(202, 404) and reading.of_page(1) == slice(0, 0)
    assert reading.systems_on(2) == [slice(202, 303), slice(303, 404)] and reading.systems_on(1) == []
    assert reading.first_of_page(1) == reading.first_of_page(2) == 202
    assert reading.ahead(0, 2) == 2 and reading.ahead(99, 5) == 100 and reading.ahead(403, 5) == 403
    starts = reading.system_starts(3)
    assert starts.sum() == 12 and starts[:3].all() and not starts[3] and starts[101:104].all()


def test_a_subset_runs_through_the_kept_positions_with_their_systems_bounds():
    full = order()
    kept = np.ones(len(full), bool)
    kept[:20] = kept[101:110] = False  # lead-ins of the first two systems
    reading = full.subset(kept)
    assert len(reading) == len(full) - 29
    assert reading.column[0] == full.column[20] and reading.system[0] == 0
    assert reading.system_first[0] == 0 and reading.system_last[0] == 80  # the first system: 81 columns left
    assert reading.system_first[81] == 81 and reading.column[81] == full.column[110]
    assert reading.ahead(79, 5) == 80 and reading.first_of_page(2) == 81 + 92
    assert reading.systems_on(2) == [slice(173, 274), slice(274, 375)]


def test_reset_puts_the_music_at_the_start_of_a_page():
    alignment = Alignment(order())
    alignment.reset(202)
    positions = alignment.positions
    assert positions.sum() == pytest.approx(1)
    assert np.flatnonzero(positions).tolist() == list(range(202, 202 + AlignmentSettings().start_columns))


def test_without_evidence_the_music_moves_on_and_never_back():
    alignment = Alignment(order())
    index = np.arange(len(alignment.order))
    means = []
    for _ in range(60):
        alignment.update(np.ones(len(index)))
        means.append((alignment.positions * index).sum())
    assert np.all(np.diff(means) > 0) and means[-1] > means[0] + 30


def test_it_follows_moving_evidence_at_the_performers_speed_across_systems_and_pages():
    alignment = Alignment(order())
    size, speed = len(alignment.order), 1.3
    errors = [alignment.update(peaked(size, 3 + speed * frame)) - (3 + speed * frame) for frame in range(280)]
    assert max(abs(e) for e in errors[20:]) <= 3  # through system and page boundaries: 280 * 1.3 > 202
    assert alignment.order.page[alignment.positions.argmax()] == 2


def test_a_repeat_is_followed_back_only_because_the_belief_may_jump():
    def follow(settings):
        alignment = Alignment(order(), settings)
        size = len(alignment.order)
        for frame in range(120):  # through the first system into the second...
            alignment.update(peaked(size, 3 + 1.2 * frame))
        return [alignment.update(peaked(size, 3 + 1.2 * frame)) for frame in range(80)]  # ...then from the top
    back = follow(AlignmentSettings())
    assert abs(back[-1] - (3 + 1.2 * 79)) <= 3
    stuck = follow(AlignmentSettings(restart=0.0, anywhere=0.0))
    assert stuck[-1] > 120


def test_a_later_passage_that_prints_the_same_music_does_not_capture_the_belief():
    def follow(settings):
        alignment = Alignment(order(), settings)
        size = len(alignment.order)
        for frame in range(100):  # along the first system; from frame 40 the second system of the last page
            evidence = peaked(size, 3 + 1.2 * frame)  # prints the same, and for 7 frames only it seems to fit
            if frame >= 40:
                later = peaked(size, 303 + 1.2 * (frame - 40))
                evidence = later if frame < 47 else np.maximum(evidence, later)
            shown = alignment.update(evidence)
        return shown
    assert abs(follow(AlignmentSettings()) - (3 + 1.2 * 99)) <= 3
    assert follow(AlignmentSettings(forward_jumps=1.0)) > 303  # were jumps forward as likely as back


def test_band_probability_stays_on_its_system_and_paints_the_system_rows():
    reading = order()
    alignment = Alignment(reading)
    alignment.belief[:] = 0
    alignment.belief[0, 100] = 1.0  # the last column of the first system
    band = alignment.band(10)
    assert band[95:101] == pytest.approx(np.ones(6)) and band[94] == 0 and band[101:106].sum() == 0
    assert band.sum() == pytest.approx(6)
    picture = alignment.paint(0, (50, 120), 10)
    assert picture[5:16, 100:106].min() == 1 and picture[5:16, 106:].max() == 0
    assert picture[:5].max() == 0 and picture[16:].max() == 0 and picture.sum() == pytest.approx(6 * 11)


def test_the_band_is_centred_where_the_position_is_shown():
    alignment = Alignment(order(), AlignmentSettings(lead_columns=2))
    alignment.belief[:] = 0
    alignment.belief[3, 50] = 1.0
    band = alignment.band(10)
    assert band[47:58] == pytest.approx(np.ones(11)) and band[46] == 0 and band[58] == 0


def test_the_position_shown_goes_no_further_than_its_system_s_last_note():
    reading = order()
    last_notes = np.where(reading.system == 0, 88, reading.system_last)  # the first system's: 88, shown at 90
    alignment = Alignment(reading, AlignmentSettings(lead_columns=2), last_notes)
    alignment.belief[:] = 0
    alignment.belief[0, 97] = 1.0  # past the last note, in the space before the barline
    assert alignment.shown()[90] == 1.0
    assert alignment.update(np.ones(len(reading))) == 90
    alignment.belief[:] = 0
    alignment.belief[0, 60] = 1.0  # before it, shown lead_columns on as ever
    assert alignment.update(np.ones(len(reading))) == 62
