import json

import torch

from sheetsync.cli import main
from sheetsync.model import checkpoint
from sheetsync.model.config import TINY
from sheetsync.model.network import ScoreFollower


def test_bench_prints_and_writes_the_numbers(tmp_path, capsys):
    torch.manual_seed(0)
    tiny = checkpoint.save(tmp_path / "tiny", ScoreFollower(TINY))
    out = tmp_path / "bench.json"
    assert main(["bench", "--checkpoint", str(tiny), "--frames", "200", "--warmup", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "median" in printed and "real-time factor" in printed
    result = json.loads(out.read_text())
    assert result["frames"] == 200 and result["device"] == "cpu"
    times = result["ms_per_frame"]
    assert 0 < times["median"] <= times["p90"] <= times["p99"]
    assert result["real_time_factor"] == times["median"] / 50
    assert result["page_size"][0] == 400
