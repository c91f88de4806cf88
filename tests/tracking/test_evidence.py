import numpy as np
import pytest

from sheetsync.score.layout import PageLayout, SystemLayout
from sheetsync.tracking.alignment import ReadingOrder
from sheetsync.tracking.evidence import (EvidenceSettings, RegisterEvidence, after_lead_ins, column_registers, held_on,
                                         last_notes, map_likelihood)

LAYOUT = PageLayout((SystemLayout((0, 0, 40, 10), (), 1), SystemLayout((0, 20, 40, 30), (), 1)))
ORDER = ReadingOrder([LAYOUT, LAYOUT], [1.0, 1.0], [(32, 48), (32, 48)])  # 41 columns a system, two pages


def test_a_printed_note_sounds_on_until_the_next_one_within_its_system():
    features = np.zeros((4, 32, 48), np.float32)
    features[1, 4, 10] = 0.9  # a note in register 1 at column 10 of the first system...
    features[3, 6, 20] = 1.0  # ...then one in register 3 at column 20
    features[2, 25, 5] = 1.0  # the second system: register 2 from column 5
    printed = held_on(ORDER, column_registers(ORDER, [features, np.zeros_like(features)]), held_below=0.5,
                      held_share=0.3)
    assert printed.shape == (len(ORDER), 4)
    assert printed[:10].sum() == 0
    assert np.all(printed[10:20, 1] == pytest.approx(0.9)) and printed[10:20, 3].sum() == 0
    assert np.all(printed[20:41, 3] == 1) and printed[20:41, 1].sum() == 0
    assert printed[41:46].sum() == 0 and np.all(printed[46:82, 2] == 1)  # nothing carried across systems
    assert printed[82:].sum() == 0  # the second page prints nothing


def test_a_single_voice_holds_its_notes_though_each_prints_little():
    features = np.zeros((4, 32, 48), np.float32)
    features[1, 4, 10] = 0.3  # a lone notehead prints about 0.3, far below a chord's sum
    features[3, 6, 20] = 0.25
    features[2, 5, 30] = 0.02  # a smudge, under a share of the system's strongest column
    printed = held_on(ORDER, column_registers(ORDER, [features, np.zeros_like(features)]), held_below=1.0,
                      held_share=0.3)
    assert np.all(printed[10:20, 1] == pytest.approx(0.3)) and printed[10:20, 3].sum() == 0
    assert np.all(printed[20:41, 3] == pytest.approx(0.25)) and printed[20:41, 2].sum() == 0


def test_each_system_is_followed_from_its_first_printed_note():
    printed = np.zeros((len(ORDER), 4), np.float32)
    printed[3:12, 0] = 0.1  # a clef and key signature, printing a little
    printed[12:41, 1:3] = 1.0  # the music, from column 12 of the first system
    printed[41:46, 2] = 0.9  # the second system's music from its start
    kept = after_lead_ins(ORDER, printed, share=0.3)
    assert not kept[:12].any() and kept[12:82].all()
    assert kept[82:].all()  # the second page prints nothing: all of it is kept


def test_a_system_s_last_note_is_where_a_register_last_comes_into_the_reader_s_window():
    columns = np.zeros((len(ORDER), 4), np.float32)
    columns[10:20, 1] = 0.3  # notes come in at columns 10 and 20 of the first system, then it prints on...
    columns[20:36, 1:3] = 0.5
    columns[36:41, 1:3] = 0.45  # ...fading a little, with no new note
    columns[45:60, 0] = 0.6  # the second system's one note, then a repeated note: no rise, not a new note
    columns[60:82, 0] = 0.62
    last = last_notes(ORDER, columns, rise=0.15)
    assert np.all(last[:41] == 20) and np.all(last[41:82] == 45)
    assert np.all(last[82:123] == 82)  # a system that prints nothing: its first position


def test_register_evidence_is_highest_where_the_page_prints_what_is_heard():
    printed = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], np.float32)
    likelihood = RegisterEvidence(printed, sharpness=2.0)(np.array([0.9, 0.8, 0.0]))
    assert likelihood.argmax() == 2 and likelihood.max() == pytest.approx(1.0)
    assert likelihood[3] < likelihood[0] < likelihood[2]
    sharper = RegisterEvidence(printed, sharpness=8.0)(np.array([0.9, 0.8, 0.0]))
    assert sharper[0] < likelihood[0]


def test_faintly_heard_registers_weigh_less_than_clearly_heard_ones():
    printed = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    clear = RegisterEvidence(printed, sharpness=2.0, heard_full=1.0)(np.array([0.9, 0.1, 0.0]))
    faint = RegisterEvidence(printed, sharpness=2.0, heard_full=1.0)(np.array([0.09, 0.01, 0.0]))
    assert clear.argmax() == faint.argmax() == 0
    assert clear[1] < faint[1] < 1.0  # the same direction, heard faintly: nearly no evidence either way
    unscaled = RegisterEvidence(printed, sharpness=2.0)(np.array([0.09, 0.01, 0.0]))
    assert unscaled[1] < faint[1]


def test_map_evidence_reads_each_systems_columns_and_leaves_unread_pages_at_the_floor():
    settings = EvidenceSettings(map_floor=0.1, map_power=0.5)
    probabilities = np.zeros((32, 48), np.float32)
    probabilities[5, 12] = 0.9  # the first system, column 12
    probabilities[15, 30] = 0.9  # between the systems: no position reads it
    likelihood = map_likelihood(ORDER, {1: probabilities}, settings)
    assert likelihood[82 + 12] == pytest.approx(1.0)
    rest = np.delete(likelihood, 82 + 12)
    assert rest == pytest.approx(np.full(len(ORDER) - 1, 0.1 ** 0.5))
