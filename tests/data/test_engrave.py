import numpy as np
import pytest

from sheetsync.data.engrave import FONTS, EngraveStyle, engrave, random_style
from sheetsync.errors import SheetsyncError
from tests.data.scores import notes_in, piano_musicxml


def darkest_near(image: np.ndarray, x: float, y: float, radius: int = 2) -> int:
    row, col = int(round(y)), int(round(x))
    return int(image[row - radius:row + radius + 1, col - radius:col + radius + 1].min())


@pytest.fixture(scope="module")
def engraving():
    return engrave(piano_musicxml(6), EngraveStyle())


def test_every_note_is_placed_on_ink(engraving):
    assert engraving.unplaced_notes == 0
    assert len(engraving.notes) == notes_in(6)
    for note in engraving.notes:
        assert darkest_near(engraving.pages[note.page], note.x, note.y) < 100, note


def test_notes_lie_inside_their_system_box(engraving):
    for note in engraving.notes:
        page, (x0, y0, x1, y1) = engraving.systems[note.system]
        assert page == note.page
        assert x0 <= note.x <= x1
        assert y0 - 30 <= note.y <= y1 + 30


def test_system_boxes_follow_the_staff_lines(engraving):
    page, (x0, y0, x1, y1) = engraving.systems[0]
    image = engraving.pages[page]
    middle = int((x0 + x1) / 2)
    for y in (y0, y1):
        assert image[int(y) - 1:int(y) + 2, middle].min() < 200
    assert image[int(round(y0)) - 4, int(x0) + 2:int(x1) - 2].mean() > 200


def test_times_follow_the_score_tempo(engraving):
    melody = sorted({n.start for n in engraving.notes})
    assert melody[:4] == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=0.002)


def test_tie_continuation_prolongs_the_tied_note(engraving):
    tied = [n for n in engraving.notes if n.start == pytest.approx(1.5, abs=0.002) and n.pitch > 70]
    assert len(tied) == 1
    assert tied[0].end == pytest.approx(2.5, abs=0.002)


def test_repeats_are_expanded_in_performance_order():
    plain = engrave(piano_musicxml(3, repeat=True, tie=False), EngraveStyle())
    assert len(plain.notes) == 2 * notes_in(3, tie=False)
    first, second = plain.notes[: len(plain.notes) // 2], plain.notes[len(plain.notes) // 2:]
    assert [(n.x, n.y) for n in first] == [(n.x, n.y) for n in second]
    assert second[0].start > first[-1].start


def test_styles_change_the_look_but_not_the_music():
    rng = np.random.default_rng(3)
    styles = [random_style(rng) for _ in range(6)]
    assert len({s.font for s in styles}) > 1 and all(s.font in FONTS for s in styles)
    a = engrave(piano_musicxml(4), EngraveStyle(page="A4", font="Bravura"))
    b = engrave(piano_musicxml(4), EngraveStyle(page="Letter", unit=7.5, font="Petaluma"))
    assert [n.pitch for n in a.notes] == [n.pitch for n in b.notes]
    assert a.pages[0].shape != b.pages[0].shape
    for note in b.notes:
        assert darkest_near(b.pages[note.page], note.x, note.y) < 100


def test_long_piece_spans_pages_in_reading_order():
    engraving = engrave(piano_musicxml(80), EngraveStyle(unit=10.5))
    assert len(engraving.pages) >= 2
    assert [p for p, _ in engraving.systems] == sorted(p for p, _ in engraving.systems)
    assert [n.page for n in engraving.notes] == sorted(n.page for n in engraving.notes)


def test_unloadable_score_is_a_clear_error():
    with pytest.raises(SheetsyncError, match="broken.xml"):
        engrave("<score-partwise><part", name="broken.xml")
