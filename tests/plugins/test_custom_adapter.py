"""examples/custom_adapter.py, run as a user would: through `sheetsync follow -p FILE.py` with its own option."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile

from sheetsync.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_adapter.py"


def test_custom_adapter_announces_the_chosen_measures(tmp_path, capsys, two_pages, tiny_checkpoint):  # noqa: F811
    score, recording = two_pages
    samples, rate = soundfile.read(recording)
    audio = tmp_path / "opening.flac"
    soundfile.write(audio, samples[: 3 * rate], rate)  # three seconds are enough and keep the test quick
    chosen = list(range(1, 71, 2))  # every odd measure of the 70-measure test piece
    jsonl = tmp_path / "positions.jsonl"
    code = main(["follow", str(score), "--audio", str(audio), "--checkpoint", str(tiny_checkpoint), "--quiet",
                 "--jsonl", str(jsonl), "-p", str(EXAMPLE),
                 *[arg for n in chosen for arg in ("--announce-measure", str(n))]])
    assert code == 0
    positions = [json.loads(line) for line in jsonl.read_text().splitlines()]
    expected, previous = [], None
    for p in positions:  # the measure changes the follower reported, as the engine's measure hook sees them
        if p["measure"] != previous and p["measure"] in chosen:
            expected.append(f"measure {p['measure']} reached at {p['time']:.2f} s on page {p['page']}")
        previous = p["measure"]
    assert expected, "the run reached none of the chosen measures: the test would prove nothing"
    assert capsys.readouterr().out.splitlines() == expected
