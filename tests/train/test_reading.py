from pathlib import Path

import numpy as np
import torch

from sheetsync.data.format import load_dataset
from sheetsync.model.config import NOTES
from sheetsync.model.network import ScoreFollower
from sheetsync.model.reader import HEAD, OUTPUTS, SYSTEM
from sheetsync.train.data import load_piece_tensors
from sheetsync.train.reading import (PageFeatures, crop_batch, printed_heads, reader_loss, reader_targets,
                                     register_counts, system_boxes)
from tests.train.test_pitch import piece


def test_noteheads_and_systems_are_per_page_in_model_pixels():
    heads = printed_heads(piece(), 0, 0.5)
    np.testing.assert_allclose(heads, [[20, 15, 12], [20, 22.5, 14], [20, 25, 13], [40, 60, 17]])
    np.testing.assert_allclose(system_boxes(piece(), 0, 0.5), [[5, 10, 95, 30], [5, 50, 95, 70]])
    np.testing.assert_allclose(printed_heads(piece(), 1, 1.0), [[50, 30, 10]])


def test_targets_put_a_disc_at_each_notehead_and_fill_the_systems():
    targets = reader_targets(printed_heads(piece(), 0, 0.5), system_boxes(piece(), 0, 0.5), (80, 100))
    assert targets.shape == (OUTPUTS, 80, 100)
    assert targets[12, 15, 20] == targets[HEAD, 15, 20] == 1 and targets[17, 60, 40] == 1
    assert targets[12, 15, 22] == 0 and targets[12, 18, 20] == 0  # the disc's radius is 1.5
    assert targets[:, 60, 40].sum() == 3  # its register, the notehead, the system
    assert targets[SYSTEM, 10:31, 5:96].all() and not targets[SYSTEM, 31:50].any()
    assert targets[:SYSTEM, 40].sum() == 0


def test_a_region_is_targeted_where_it_lies_on_the_page():
    heads, boxes = printed_heads(piece(), 0, 0.5), system_boxes(piece(), 0, 0.5)
    whole = reader_targets(heads, boxes, (80, 100))
    np.testing.assert_array_equal(reader_targets(heads, boxes, (30, 40), origin=(7, 13)), whole[:, 7:37, 13:53])


def test_the_loss_rewards_reading_right():
    targets = torch.from_numpy(reader_targets(printed_heads(piece(), 0, 0.5), system_boxes(piece(), 0, 0.5),
                                              (80, 100)))[None]
    right = targets * 20 - 10
    wrong_register = right.clone()
    wrong_register[0, [12, 13]] = right[0, [13, 12]]
    assert reader_loss(right, targets) < reader_loss(wrong_register, targets) < reader_loss(-right, targets)


def test_register_counts_read_the_argmax_at_each_notehead():
    heads = printed_heads(piece(), 0, 0.5)
    outputs = torch.from_numpy(reader_targets(heads, system_boxes(piece(), 0, 0.5), (80, 100)))
    np.testing.assert_array_equal(register_counts(outputs, heads), [4, 4, 4])
    outputs[[12, 13]] = outputs[[13, 12]]  # the chord's C and D# bins swapped
    right, near, total = register_counts(outputs, heads)
    assert (right, total) == (2, 4) and near == 4


def test_crops_show_ink_at_their_noteheads(built_dataset):
    dataset = load_dataset(built_dataset)
    pieces = [load_piece_tensors(dataset, i, cache=Path(built_dataset) / ".no-cache-here") for i in dataset.pieces]
    images, targets = crop_batch(pieces, 12, np.random.default_rng(0))
    assert images.shape == (12, 1, 96, 96) and targets.shape == (12, OUTPUTS, 96, 96)
    heads = targets[:, HEAD] > 0
    assert heads.any(dim=(1, 2)).all()  # each crop is drawn around a notehead
    assert images[:, 0][heads].mean() > 3 * images.mean()  # noteheads are ink


def test_frozen_page_features_are_read_once_and_equal_reading_again():
    torch.manual_seed(0)
    model = ScoreFollower(NOTES.replace(reader_width=4)).eval()
    features = PageFeatures(model, size=2)
    pages = torch.rand(3, 1, 40, 30)
    first = features([("a", 0), ("a", 1), None], pages)
    for kept, read in zip(first, model.read_page(pages)[0]):
        torch.testing.assert_close(kept, read)
    assert list(features.kept) == [("a", 1), None]  # the oldest left
    again = features([("a", 1)], pages[2:])  # a known name is not read again, whatever the pixels
    assert again[0] is first[1]


def test_noteheads_beside_a_region_reach_into_it_by_their_radius_only():
    heads = np.array([[-1.0, 5.0, 3], [5.0, 10.2, 4], [6.0, 12.0, 5], [30.0, 5.0, 2]], np.float32)
    targets = reader_targets(heads, np.zeros((0, 4), np.float32), (10, 10))
    assert targets[3, 5, 0] == 1 and targets[3, 5, 1] == 0  # centred a pixel left of the region
    assert targets[4, 9, 5] == 1 and targets[4, 9, 3] == 0  # just below it
    assert targets[5].sum() == 0 and targets[2].sum() == 0  # out of reach
