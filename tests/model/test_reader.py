import pytest
import torch

from sheetsync.model.config import NOTES, TINY
from sheetsync.model.reader import (FEATURES, HEAD, LEDGER_REACH, OUTPUTS, PITCH_BINS, SYSTEM, WINDOWS,
                                   column_features)

HERE, JUST_BEFORE = 0, 1  # feature groups, in WINDOWS' order


def reader_logits(height=60, width=120, systems=((10, 25), (40, 55)), heads=((50, 15, 7), (20, 45, 3))):
    """Reader logits (1, OUTPUTS, H, W): confident systems over rows [top, bottom) and noteheads (x, y, bin)."""
    logits = torch.full((1, OUTPUTS, height, width), -20.0)
    for top, bottom in systems:
        logits[0, SYSTEM, top:bottom] = 20.0
    for x, y, register in heads:
        logits[0, register, y - 1:y + 2, x] = 20.0
        logits[0, HEAD, y - 1:y + 2, x] = 20.0
    return logits


def group(features, number):
    return features[0, number * PITCH_BINS:(number + 1) * PITCH_BINS]


def test_a_notehead_lights_its_register_over_its_whole_system_and_nothing_else():
    features = column_features(reader_logits(), 400)
    assert features.shape == (1, FEATURES, 60, 120)
    here = group(features, HERE)
    low, high = WINDOWS[HERE]
    for row in (10, 15, 24):  # the first system, top to bottom
        lit = (here[7, row] > 0.5).nonzero().flatten()
        assert lit.min() == 50 - high and lit.max() == 50 - low
    assert not (here[7, 25:] > 0.01).any() and not (here[7, :10] > 0.01).any()  # beyond its system
    assert not (here[torch.arange(PITCH_BINS) != 7][:, :30] > 0.01).any()  # other registers, first system
    assert (here[3, 40:55, 20] > 0.5).all() and not (here[3, :40] > 0.01).any()


def test_a_notehead_on_ledger_lines_counts_for_the_nearer_system_within_reach():
    assert LEDGER_REACH == 6  # the rows below are placed for it
    # systems over rows 10-24 and 40-54; noteheads over rows y-1..y+1: 3-5 rows below the first system, 3-5
    # above the second, and 7-9 rows from either
    heads = ((30, 28, 5), (60, 36, 9), (90, 32, 11))
    here = group(column_features(reader_logits(heads=heads), 400), HERE)
    first, second = slice(10, 25), slice(40, 55)
    assert (here[5, first, 30] > 0.5).all() and not (here[5, second] > 0.01).any()
    assert (here[9, second, 60] > 0.5).all() and not (here[9, first] > 0.01).any()
    assert not (here[11] > 0.01).any()


def test_what_was_printed_just_before_is_a_group_of_its_own():
    features = column_features(reader_logits(), 400)
    before = group(features, JUST_BEFORE)
    low, high = WINDOWS[JUST_BEFORE]
    lit = (before[7, 15] > 0.5).nonzero().flatten()
    assert lit.min() == 50 - high and lit.max() == 50 - low


def test_the_system_mask_is_the_last_feature():
    features = column_features(reader_logits(), 400)
    assert torch.equal(features[0, -1, :, 0] > 0, torch.arange(60).ge(10) & torch.arange(60).lt(25)
                       | torch.arange(60).ge(40) & torch.arange(60).lt(55))


def test_windows_scale_with_the_page_height():
    wide = (group(column_features(reader_logits(), 400), HERE)[7, 15] > 0.5).sum()
    narrow = (group(column_features(reader_logits(), 200), HERE)[7, 15] > 0.5).sum()
    assert narrow < wide


def test_notes_need_match_conditioning_with_its_feature_count():
    with pytest.raises(ValueError, match="notes"):
        TINY.replace(page_path="notes")
    with pytest.raises(ValueError, match="notes"):
        NOTES.replace(match_dim=FEATURES - 1)
    with pytest.raises(ValueError, match="page path"):
        TINY.replace(page_path="omr")
    assert NOTES.match_dim == FEATURES


def test_a_reader_with_rows_sees_the_start_of_its_row_and_one_without_does_not():
    from sheetsync.model.reader import NoteReader

    page = torch.zeros(1, 1, 96, 200)
    clef = page.clone()
    clef[0, 0, 70:80, 2:8] = 1.0  # ink at the start of a row, far beyond the convolutions' reach of x >= 150
    for rows in (True, False):
        torch.manual_seed(0)
        reader = NoteReader(width=8, rows=rows).eval()
        with torch.no_grad():
            change = (reader(clef) - reader(page))[0, :, :, 150:].abs().amax(dim=(0, 2))
        # far along the clef's row versus a row far above it (which only the normalisation's page-wide
        # statistics reach)
        ratio = float(change[75] / change[5])
        assert ratio > 3 if rows else ratio < 2
    assert NOTES.reader_rows and not TINY.reader_rows  # new note readers look along their rows
