import json

import numpy as np
import pytest
import torch

from sheetsync.cli import main
from sheetsync.data.format import load_dataset
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
