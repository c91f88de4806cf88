"""The follower end to end, with a real (tiny, untrained) model: engine, hooks, pages, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import torch

from sheetsync.cli import main
from sheetsync.engine import Control
from sheetsync.hookspecs import hookimpl
from sheetsync.model import checkpoint
from sheetsync.score.load import load_score
from sheetsync.tracking.tracker import Tracker
from tests.engine_run import build_engine


def follow_jsonl(tmp_path, score, audio, checkpoint_path, *extra):
    out = tmp_path / "positions.jsonl"
    code = main(["follow", str(score), "--audio", str(audio), "--checkpoint", str(checkpoint_path),
                 "--jsonl", str(out), "--quiet", *extra])
    return code, [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


@pytest.mark.parametrize("model", ["tiny_checkpoint", "tiny_match_checkpoint"])
def test_follow_writes_a_position_per_frame(tmp_path, two_pages, model, request):
    score, audio = two_pages
    code, positions = follow_jsonl(tmp_path, score, audio, request.getfixturevalue(model))
    assert code == 0
    frames = int(np.ceil(soundfile.info(str(audio)).frames / 1102.5))
    assert len(positions) == frames
    assert [p["frame"] for p in positions] == list(range(frames))
    assert set(positions[0]) == {"time", "frame", "page", "x", "y", "system", "measure", "progress", "confidence",
                                 "tempo", "measure_position"}
    assert all(0 <= p["x"] <= 1 and 0 <= p["y"] <= 1 and 0 <= p["confidence"] <= 1 for p in positions)


def test_streaming_and_offline_give_the_same_positions(two_pages, tiny_checkpoint):
    from sheetsync.audio.features import spectrogram
    from sheetsync.audio.io import load_audio

    score_path, audio_path = two_pages
    model, _ = checkpoint.load(tiny_checkpoint)
    score = load_score([score_path])
    audio = load_audio(audio_path)[: 22050 * 4]
    streaming = Tracker(model, score)
    rng = np.random.default_rng(0)
    positions, start = [], 0
    while start < len(audio):
        size = int(rng.integers(50, 5000))
        positions += streaming.push_audio(audio[start:start + size])
        start += size
    positions += streaming.finish()
    offline = Tracker(model, score)
    expected = [offline.step(frame) for frame in spectrogram(audio)]
    assert positions == expected


def recording_plugin(log):
    from sheetsync.hookspecs import hookimpl

    class Plugin:
        @hookimpl
        def sheetsync_session_start(self, session):
            log.append(("start", len(session.pages)))

        @hookimpl
        def sheetsync_position(self, position):
            log.append(("position", position.frame))

        @hookimpl
        def sheetsync_page_turn(self, page, position, early):
            log.append(("turn", page, early))

        @hookimpl
        def sheetsync_session_end(self, session, reason):
            log.append(("end", reason))

    return Plugin()


class Failing:
    from sheetsync.hookspecs import hookimpl

    def __init__(self):
        self.calls = 0

    @hookimpl
    def sheetsync_position(self, position):
        self.calls += 1
        raise RuntimeError("adapter bug")


def run_engine(score_path, audio_path, checkpoint_path, plugins, seconds=3.0, go_to=None):
    control = Control()
    if go_to:
        control.go_to_page(go_to)
    engine, source = build_engine(score_path, audio_path, checkpoint_path, plugins, seconds, control)
    return engine, engine.run(source)


def test_hooks_are_called_in_order_and_page_turns_announced(two_pages, tiny_checkpoint):
    log = []
    engine, reason = run_engine(*two_pages, tiny_checkpoint, [recording_plugin(log)], go_to=2)
    assert reason == "end"
    assert log[0][0] == "start" and log[0][1] >= 2
    assert log[-1] == ("end", "end")
    frames = [entry[1] for entry in log if entry[0] == "position"]
    assert frames == list(range(len(frames))) and len(frames) == 60
    turns = [entry for entry in log if entry[0] == "turn"]
    assert ("turn", 2, False) in turns  # the control channel moved the follower to page 2
    assert engine.latencies and len(engine.latencies) == 60


def test_pause_drops_audio_until_resume_and_stop_ends_the_session(two_pages, tiny_checkpoint):
    log = []
    control_holder = {}

    class PauseAtTen:
        @hookimpl
        def sheetsync_position(self, position):
            if position.frame == 9:
                control_holder["control"].pause()

    control = control_holder["control"] = Control()
    engine, source = build_engine(*two_pages, tiny_checkpoint, [PauseAtTen(), recording_plugin(log)], 3.0, control)
    blocks = source.blocks

    def resuming_blocks():
        for index, block in enumerate(blocks()):
            if index == 30:
                control.resume()
            if index == 50:
                control.stop()
            yield block

    source.blocks = resuming_blocks
    assert engine.run(source) == "stopped"
    frames = [entry[1] for entry in log if entry[0] == "position"]
    assert frames[:10] == list(range(10))
    assert 10 < len(frames) < 60  # frames heard while paused were never followed
    assert frames == list(range(len(frames)))  # following resumed where it left off
    assert log[-1] == ("end", "stopped")


def test_failing_plugin_is_isolated_and_switched_off(two_pages, tiny_checkpoint, caplog):
    log, failing = [], Failing()
    engine, reason = run_engine(*two_pages, tiny_checkpoint, [failing, recording_plugin(log)])
    assert reason == "end"
    assert failing.calls == 3  # switched off after three failures
    assert sum(1 for entry in log if entry[0] == "position") == 60  # the others got every frame
    assert sum("adapter bug" in record.message for record in caplog.records) == 1


def test_custom_plugin_file_with_its_own_option(tmp_path, two_pages, tiny_checkpoint):
    plugin = tmp_path / "counter.py"
    plugin.write_text(
        "from sheetsync import hookimpl\n"
        "seen = []\n"
        "@hookimpl\n"
        "def sheetsync_addoption(parser):\n"
        "    parser.add_argument('--count-to', metavar='FILE')\n"
        "@hookimpl\n"
        "def sheetsync_configure(config):\n"
        "    seen.append(config.args.count_to)\n"
        "@hookimpl\n"
        "def sheetsync_position(position):\n"
        "    seen.append(position.frame)\n"
        "@hookimpl\n"
        "def sheetsync_session_end(session, reason):\n"
        "    open(seen[0], 'w').write(str(len(seen) - 1))\n")
    score, audio = two_pages
    count = tmp_path / "count.txt"
    code, positions = follow_jsonl(tmp_path, score, audio, tiny_checkpoint, "-p", str(plugin), "--count-to",
                                   str(count))
    assert code == 0 and int(count.read_text()) == len(positions)


def test_plugins_are_released_when_the_audio_cannot_be_opened(tmp_path, two_pages, tiny_checkpoint, capsys):
    plugin = tmp_path / "ending.py"
    ended = tmp_path / "ended.txt"
    plugin.write_text(
        "from sheetsync import hookimpl\n"
        "@hookimpl\n"
        "def sheetsync_session_end(session, reason):\n"
        f"    open({str(ended)!r}, 'w').write(reason)\n")
    code = main(["follow", str(two_pages[0]), "--audio", str(tmp_path / "missing.flac"), "--checkpoint",
                 str(tiny_checkpoint), "-p", str(plugin)])
    assert code != 0 and "missing.flac" in capsys.readouterr().err
    assert ended.read_text() == "error"  # session_end ran although following never started


def test_plugins_command_lists_builtins_and_options(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "jsonl" in out and "--jsonl" in out and "position" in out


@pytest.mark.parametrize("name, content, message", [
    ("missing.pdf", None, "does not exist"),
    ("empty.pdf", b"", "cannot open PDF"),
    ("notes.txt", b"x", "neither a PDF nor a page image"),
    ("icon.png", "tiny", "too small to be a page"),
])
def test_bad_scores_are_clear_errors(tmp_path, two_pages, tiny_checkpoint, capsys, name, content, message):
    from PIL import Image

    score = tmp_path / name
    if content == "tiny":
        Image.new("L", (32, 32), 255).save(score)
    elif content is not None:
        score.write_bytes(content)
    code, _ = follow_jsonl(tmp_path, score, two_pages[1], tiny_checkpoint)
    assert code == 2 and message in capsys.readouterr().err


def test_encrypted_pdf_is_refused(tmp_path, two_pages, tiny_checkpoint, capsys):
    import pymupdf

    document = pymupdf.open(two_pages[0])
    locked = tmp_path / "locked.pdf"
    document.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    code, _ = follow_jsonl(tmp_path, locked, two_pages[1], tiny_checkpoint)
    assert code == 2 and "encrypted" in capsys.readouterr().err


def test_silent_and_missing_audio_are_clear_errors(tmp_path, two_pages, tiny_checkpoint, capsys):
    silent = tmp_path / "silent.flac"
    soundfile.write(silent, np.zeros(22050, np.float32), 22050)
    assert follow_jsonl(tmp_path, two_pages[0], silent, tiny_checkpoint)[0] == 2
    assert "silent" in capsys.readouterr().err
    assert follow_jsonl(tmp_path, two_pages[0], tmp_path / "none.flac", tiny_checkpoint)[0] == 2
    assert "does not exist" in capsys.readouterr().err


def test_missing_checkpoint_is_a_clear_error(tmp_path, two_pages, capsys):
    code, _ = follow_jsonl(tmp_path, *two_pages, tmp_path / "nowhere")
    assert code == 2 and "no checkpoint" in capsys.readouterr().err


def test_follow_runs_as_a_console_command(tmp_path, two_pages, tiny_checkpoint):
    score, audio = two_pages
    result = subprocess.run([sys.executable, "-m", "sheetsync", "follow", str(score), "--audio", str(audio),
                             "--checkpoint", str(tiny_checkpoint), "--jsonl", "-"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and json.loads(lines[-1])["frame"] == len(lines) - 1
    assert "ms median" in result.stderr


def test_silence_and_noise_mid_performance_keep_the_follower_running(two_pages, tiny_checkpoint):
    """A live input that goes quiet or picks up noise: a position every frame, all of it finite and on the score."""
    from sheetsync.audio.io import load_audio

    model, _ = checkpoint.load(tiny_checkpoint)
    score = load_score([two_pages[0]])
    tracker = Tracker(model, score)
    music = load_audio(two_pages[1])[: 22050 * 2]
    noise = np.random.default_rng(0).normal(0, 0.3, 22050 * 2).astype(np.float32)
    audio = np.concatenate([music, np.zeros(22050 * 2, np.float32), noise, music])
    positions = []
    for start in range(0, len(audio), 1024):
        positions += tracker.push_audio(audio[start:start + 1024])
    positions += tracker.finish()
    assert [p.frame for p in positions] == list(range(len(positions))) and len(positions) >= 159
    assert all(1 <= p.page <= len(score.pages) for p in positions)
    assert all(np.isfinite([p.x, p.y, p.confidence, p.progress]).all() for p in positions)
    assert all(0 <= p.x <= 1 and 0 <= p.y <= 1 and 0 <= p.confidence <= 1 for p in positions)


def test_the_followers_map_is_its_belief_and_the_papers_the_networks(two_pages, tiny_checkpoint):
    from sheetsync.audio.features import spectrogram
    from sheetsync.audio.io import load_audio
    from sheetsync.tracking.alignment import AlignmentSettings
    from sheetsync.tracking.tracker import TrackerSettings

    model, _ = checkpoint.load(tiny_checkpoint)
    score = load_score([two_pages[0]])
    frames = spectrogram(load_audio(two_pages[1])[: 22050])
    aligned = Tracker(model, score)
    paper = Tracker(model, score, TrackerSettings(alignment=AlignmentSettings(enabled=False)))
    assert aligned.alignment is not None and paper.alignment is None
    state = None
    for frame in frames:
        position, _ = aligned.step(frame), paper.step(frame)
        (page, belief), = aligned.maps.items()  # one map: the position's page
        assert page == position.page - 1
        cache = aligned.caches[page]
        np.testing.assert_array_equal(belief, aligned.alignment.paint(page, (cache.height, cache.width),
                                                                      aligned.band_columns))
        assert 0 <= belief.min() and belief.max() <= 1 + 1e-9
        z, state = model.step(torch.from_numpy(paper.window), state)
        assert paper.maps
        for page, probabilities in paper.maps.items():
            np.testing.assert_allclose(probabilities, model.predict(paper.caches[page], z).numpy(), rtol=1e-5)
