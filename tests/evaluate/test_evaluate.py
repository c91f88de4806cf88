import json

import numpy as np
import pytest
import torch

from sheetsync.cli import main
from sheetsync.data.format import load_dataset
from sheetsync.data.targets import track
from sheetsync.evaluate.metrics import Totals, score_time
from sheetsync.model import checkpoint
from sheetsync.model.config import TINY
from sheetsync.model.network import ScoreFollower

KEYS = {"pieces", "frames", "precision", "recall", "f1", "error_cm", "onsets", "page_accuracy", "ms_per_frame",
        "per_piece"}


def test_score_time_picks_the_occurrence_nearest_in_time(built_dataset):
    piece = load_dataset(built_dataset).load_piece("short-v1")
    first = piece.onsets[0]
    assert score_time(piece, first.system, first.x, first.time) == pytest.approx(first.time, abs=1e-6)
    middle = piece.onsets[len(piece.onsets) // 2]
    assert score_time(piece, middle.system, middle.x, middle.time) == pytest.approx(middle.time, abs=0.05)


def test_a_repeat_back_to_the_start_of_the_same_system_is_a_second_visit():
    from types import SimpleNamespace

    onsets = [SimpleNamespace(time=float(t), system=0, x=float(x)) for t, x in enumerate([10, 20, 30, 10, 20, 30])]
    piece = SimpleNamespace(onsets=onsets)
    assert score_time(piece, 0, 25.0, near=1.4) == pytest.approx(1.5)
    assert score_time(piece, 0, 25.0, near=4.6) == pytest.approx(4.5)


def test_totals_compute_the_shares():
    totals = Totals(true_positive=30, predicted=40, actual=60, onset_errors=[0.01, 0.2, 0.7, 2.0, 9.0])
    assert totals.precision == 0.75 and totals.recall == 0.5 and totals.f1 == pytest.approx(0.6)
    assert [totals.within(t) for t in (0.05, 0.5, 1, 5)] == [0.2, 0.4, 0.6, 0.8]


def test_evaluate_writes_exactly_the_documented_json(built_dataset, tmp_path, capsys):
    torch.manual_seed(0)
    tiny = checkpoint.save(tmp_path / "tiny", ScoreFollower(TINY))
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--data", str(built_dataset), "--split", "test", "--checkpoint", str(tiny),
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result) == KEYS
    assert set(result["onsets"]["within"]) == {"0.05", "0.1", "0.5", "1", "5"}
    assert result["pieces"] == len(load_dataset(built_dataset).split("test")) == len(result["per_piece"])
    assert result["frames"] > 0 and 0 <= result["f1"] <= 1 and 0 <= result["page_accuracy"] <= 1
    shares = list(result["onsets"]["within"].values())
    assert shares == sorted(shares)
    assert "F1" in capsys.readouterr().out


def test_no_alignment_reads_each_map_on_its_own(built_dataset, tmp_path):
    torch.manual_seed(0)
    tiny = checkpoint.save(tmp_path / "tiny", ScoreFollower(TINY))
    results = []
    for extra in ([], ["--no-alignment"]):
        out = tmp_path / f"metrics{len(extra)}.json"
        assert main(["evaluate", "--data", str(built_dataset), "--split", "test", "--checkpoint", str(tiny),
                     "--limit", "1", "--json", str(out), *extra]) == 0
        results.append(json.loads(out.read_text()))
    aligned, paper = results
    assert aligned["frames"] == paper["frames"]
    assert (aligned["precision"], aligned["recall"]) != (paper["precision"], paper["recall"])


class PerfectFollower:
    """Knows the answer: the target band as its map and the true position, frame by frame."""

    def __init__(self, score, piece, model_height=200):
        from sheetsync.data.targets import band_masks, band_width, track
        from sheetsync.events import Position
        from sheetsync.score.images import model_scale

        self.score, self.piece, self.frame = score, piece, 0
        self.truth = track(piece, 100_000)
        self.band_masks, self.band = band_masks, band_width(model_height)
        self.model_height, self.scale_of, self.Position = model_height, model_scale, Position

    def step(self, frame):
        index, self.frame = self.frame, self.frame + 1
        page = max(int(self.truth.page[index]), 0)
        image = self.score.pages[page]
        scale = self.scale_of(image.shape[0], self.model_height)
        shape = (self.model_height, round(image.shape[1] * scale))
        x0, y0, x1, y1 = self.piece.systems[max(int(self.truth.system[index]), 0)].bbox
        x = self.truth.x[index] if self.truth.page[index] >= 0 else x0
        self.maps = {page: self.band_masks(np.array([x * scale]), np.array([y0 * scale]), np.array([y1 * scale]),
                                           shape, self.band)[0]}
        return self.Position(time=index / 20, frame=index, page=page + 1, x=x / image.shape[1],
                             y=(y0 + y1) / 2 / image.shape[0], system=1, measure=None, progress=0.0, confidence=1.0)


def test_a_perfect_follower_scores_perfectly(built_dataset):
    """The metrics themselves: a follower that knows the truth must get F1 1, no error, every onset in time."""
    from sheetsync.evaluate.runner import evaluate_piece, report

    dataset = load_dataset(built_dataset)
    piece_id = dataset.split("test")[0]
    totals = evaluate_piece(None, dataset, piece_id, follower=PerfectFollower)
    result = report({piece_id: totals})
    assert result["frames"] > 100
    assert result["f1"] == result["precision"] == result["recall"] == 1.0
    assert result["page_accuracy"] == 1.0
    assert result["error_cm"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert result["onsets"]["within"]["0.05"] == 1.0


def test_a_follower_one_system_behind_scores_badly(built_dataset):
    """...and the same metrics punish a follower that is a whole system off."""
    from sheetsync.evaluate.runner import evaluate_piece, report

    class OneSystemLate(PerfectFollower):
        def __init__(self, score, piece):
            super().__init__(score, piece)
            shifted = np.maximum(self.truth.system - 1, 0)
            same_page = np.array([piece.systems[s].page for s in shifted]) == self.truth.page
            self.truth.system[:] = np.where(same_page & (self.truth.system > 0), shifted, self.truth.system)

    dataset = load_dataset(built_dataset)
    piece_id = max(dataset.split("test"), key=lambda i: len(dataset.load_piece(i).systems))
    followers = []
    result = report({piece_id: evaluate_piece(None, dataset, piece_id,
                                              follower=lambda *a: followers.append(OneSystemLate(*a)) or followers[0])})
    truth = track(dataset.load_piece(piece_id), 100_000)
    start = int(np.argmax(truth.system >= 0))
    playing = slice(start, start + result["frames"])  # the frames evaluated
    unshifted = float(np.mean(followers[0].truth.system[playing] == truth.system[playing]))
    assert unshifted < 0.7
    assert result["f1"] == pytest.approx(unshifted, abs=0.05)  # right only where nothing was shifted
    assert result["onsets"]["within"]["0.5"] < 0.9  # the perfect follower gets 1.0
