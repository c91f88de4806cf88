from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sheetsync.data.format import Onset
from sheetsync.train.pitch import PITCH_BINS, column_maps, pitch_bin, pitch_losses, printed_columns, sounding_pitches


def piece():
    """Two systems on page 0 and one on page 1: a C major chord (bins 12-14), then E5 (17), then G3 (10) on
    the next page."""
    systems = [SimpleNamespace(page=0, bbox=[10, 20, 190, 60]), SimpleNamespace(page=0, bbox=[10, 100, 190, 140]),
               SimpleNamespace(page=1, bbox=[10, 20, 190, 60])]
    onsets = [Onset(0.5, 0, 0, 40.0, 30.0, 60), Onset(0.5, 0, 0, 40.0, 50.0, 64), Onset(0.5, 0, 0, 40.0, 45.0, 67),
              Onset(1.0, 0, 1, 80.0, 120.0, 76), Onset(1.5, 1, 2, 50.0, 30.0, 55)]
    return SimpleNamespace(onsets=onsets, systems=systems)


def classes(row):
    return set(np.flatnonzero(row).tolist())


def test_pitches_fall_in_three_semitone_bins_from_c1():
    assert [pitch_bin(p) for p in (24, 26, 27, 60, 64, 67, 107)] == [0, 0, 1, 12, 13, 14, 27]
    assert pitch_bin(21) == 0 and pitch_bin(127) == PITCH_BINS - 1


def test_what_sounds_is_the_last_onset_and_nothing_before_the_first():
    sounding = sounding_pitches(piece(), 40)  # 20 frames a second
    assert sounding.shape == (40, PITCH_BINS)
    assert not sounding[:10].any()
    assert classes(sounding[10]) == classes(sounding[19]) == {12, 13, 14}
    assert classes(sounding[20]) == {17}
    assert classes(sounding[30]) == classes(sounding[39]) == {10}


def test_printed_columns_are_per_page_in_model_pixels():
    columns = printed_columns(piece(), 0, 0.5)
    assert len(columns) == 2
    chord = columns[np.argmin(columns[:, 0])]
    np.testing.assert_allclose(chord[:3], [20.0, 10.0, 30.0])
    assert classes(chord[3:]) == {12, 13, 14}
    assert classes(printed_columns(piece(), 1, 1.0)[0, 3:]) == {10}


def test_column_maps_mark_the_column_over_the_system_height_only():
    maps = column_maps(printed_columns(piece(), 0, 0.5), (80, 100), width=4.0)
    assert maps.shape == (PITCH_BINS, 80, 100)
    assert classes(maps[:, 20, 20]) == {12, 13, 14} and classes(maps[:, 10, 21]) == {12, 13, 14}
    assert classes(maps[:, 55, 40]) == {17}
    assert not maps[:, 20, 25].any()  # beside the column
    assert not maps[:, 40, 20].any()  # between the systems
    assert not maps[:, 5, 20].any()  # above the first system


def test_pitch_losses_reward_the_right_bins_only():
    page_targets = torch.from_numpy(column_maps(printed_columns(piece(), 0, 0.5), (80, 100), 4.0))[None]
    sounding = torch.from_numpy(sounding_pitches(piece(), 40))[None]
    playing = torch.ones(1, 40)
    right_features = torch.cat([(page_targets * 2 - 1) * 20, torch.zeros(1, 4, 80, 100)], 1)
    right_queries = torch.cat([(sounding * 2 - 1) * 20, torch.zeros(1, 40, 5)], -1)
    page, audio = pitch_losses(right_features, page_targets, right_queries, sounding, playing)
    assert float(page) < 1e-6 and float(audio) < 1e-6
    page, audio = pitch_losses(-right_features, page_targets, -right_queries, sounding, playing)
    assert float(page) > 10 and float(audio) > 10
    # steps outside the piece do not count
    wrong_late = right_queries.clone()
    wrong_late[:, 30:] *= -1
    _, audio = pitch_losses(right_features, page_targets, wrong_late, sounding, torch.arange(40.0)[None] < 30)
    assert float(audio) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_validation_counts_what_each_side_says(built_dataset, sign):
    """A model made to say every pitch bin (or none) everywhere: the counts follow from the targets alone."""
    from sheetsync.data.format import load_dataset
    from sheetsync.train.data import load_piece_tensors
    from sheetsync.train.trainer import pitch_counts
    from tests.model.tiny import tiny_model

    model = tiny_model(conditioning="match", match_dim=PITCH_BINS + 2)
    with torch.no_grad():
        for layer in (model.query, model.unet.out):
            layer.weight.zero_()
            layer.bias.fill_(sign)
    dataset = load_dataset(built_dataset)
    piece = load_piece_tensors(dataset, dataset.pieces[0], page_height=model.config.page_height)
    pages = torch.stack([torch.from_numpy(page.astype(np.float32) / 255) for page in piece.pages])
    counts = pitch_counts(model, piece, pages, 60, torch.device("cpu"))
    sounding = piece.sounding[:60].sum()
    printed = [column_maps(c, p.shape, 5.0) for c, p in zip(piece.columns, piece.pages)]
    notes = sum(m.sum() for m in printed)
    inside = sum(PITCH_BINS * m.any(0).sum() for m in printed)
    expected = [[sounding, PITCH_BINS * 60, sounding], [notes, inside, notes]] if sign > 0 else \
        [[0, 0, sounding], [0, 0, notes]]
    np.testing.assert_allclose(counts, expected)
    assert sounding > 0 and notes > 0
