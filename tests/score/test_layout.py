import numpy as np
import pytest

from sheetsync.data.format import load_dataset, read_page_image
from sheetsync.score.layout import detect_layout
from sheetsync.tracking.position import ScoreMap, read_map


def test_systems_match_the_engraved_boxes(built_dataset):
    dataset = load_dataset(built_dataset)
    for piece_id in ("long-v1", "long-v2", "short-v1"):
        piece = dataset.load_piece(piece_id)
        for index, page in enumerate(piece.pages):
            layout = detect_layout(read_page_image(dataset.piece_dir(piece_id) / page.image))
            truth = [s.bbox for s in piece.systems if s.page == index]
            assert len(layout.systems) == len(truth), (piece_id, index)
            for found, expected in zip(layout.systems, truth):
                np.testing.assert_allclose(found.bbox, expected, atol=4)


def test_barlines_count_the_measures(built_dataset):
    dataset = load_dataset(built_dataset)
    piece = dataset.load_piece("long-v1")
    layouts = [detect_layout(read_page_image(dataset.piece_dir("long-v1") / p.image)) for p in piece.pages]
    barlines = sum(len(s.barlines) for layout in layouts for s in layout.systems)
    assert barlines == 70  # 70 measures, each closed by a barline


def test_read_map_finds_the_blob():
    probabilities = np.zeros((100, 80))
    probabilities[40:60, 20:24] = 0.9
    reading = read_map(probabilities)
    assert reading.x == pytest.approx(21.5) and reading.y == pytest.approx(49.5)
    assert reading.confidence == pytest.approx(0.9)
    assert read_map(np.zeros((10, 10))).confidence == 0.0


def test_measures_and_progress_in_reading_order(built_dataset):
    dataset = load_dataset(built_dataset)
    piece = dataset.load_piece("long-v1")
    layouts = tuple(detect_layout(read_page_image(dataset.piece_dir("long-v1") / p.image)) for p in piece.pages)
    score_map = ScoreMap(layouts)
    first = layouts[0].systems[0]
    middle = (first.bbox[1] + first.bbox[3]) / 2
    start = score_map.locate(0, first.bbox[0] + 1, middle)
    assert (start.system, start.measure) == (1, 1) and start.progress == pytest.approx(0, abs=0.01)
    assert start.measure_position == pytest.approx(1.0, abs=0.01)
    second_bar = (first.barlines[0] + first.barlines[1]) / 2  # halfway through the second measure
    assert score_map.locate(0, second_bar, middle).measure_position == pytest.approx(2.5, abs=0.01)
    last_page = layouts[-1]
    final = last_page.systems[-1]
    end = score_map.locate(len(layouts) - 1, final.bbox[2] - 1, final.bbox[3])
    assert end.system == len(last_page.systems) and end.measure == 70 and end.progress == pytest.approx(1, abs=0.01)
    assert 70 < end.measure_position < 71


def test_beams_beside_staff_lines_do_not_hide_or_fake_a_staff():
    page = np.full((430, 800), 255, dtype=np.uint8)
    staves = ((50, 770), (150, 770), (250, 770), (350, 90))  # (top, right end): the last system one short bar
    for top, right in staves:
        for line in range(5):
            page[top + 6 * line, 30:right + 1] = 0
    page[75:78, 300:420] = 0  # a beam touching the first staff's bottom line
    page[170:173, 300:420] = 0  # a beam between the second staff's fourth and fifth lines
    page[243:245, 300:420] = 0  # a beam one staff space above the third staff
    page[259:261, 300:420] = 0  # and one between its second and third lines
    systems = detect_layout(page).systems
    assert [s.bbox for s in systems] == [(30.0, float(top), float(right), top + 24.0) for top, right in staves]
