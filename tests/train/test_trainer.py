import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import torch
import pytest
from safetensors.torch import load_file

from sheetsync.cli import main
from sheetsync.model import checkpoint
from sheetsync.model.network import ScoreFollower

TINY_RUN = ["--tiny", "--batch", "2", "--length", "8", "--unet-frames", "2", "--valid-pieces", "1",
            "--valid-frames", "40", "--seed", "1"]


def train_args(data, out, *extra):
    return ["train", "--data", str(data), "--out", str(out), *TINY_RUN, *extra]


def losses(run, term="loss"):
    with open(run / "train.csv") as stream:
        return [float(row[term]) for row in csv.DictReader(stream) if row[term]]  # steps that logged it


# Rates at which each learns fast: at 1e-2 the plain match model's Dice fell to 0.42 by step 15, then collapsed to
# an empty map (0.996) for good; at 3e-3 FiLM had only reached 0.97 after 50 steps.
@pytest.mark.parametrize("conditioning, lr, extra, terms", [
    ("film", "1e-2", [], []),
    ("match", "3e-3", [], []),
    ("match", "1e-2", ["--pitch-weight", "1", "--ce-weight", "0.5", "--match-dim", "30"],
     ["dice", "cross_entropy", "pitch_page", "pitch_audio"]),
])
def test_loss_falls_on_a_tiny_set(built_dataset, tmp_path, conditioning, lr, extra, terms):
    run = tmp_path / "run"
    assert main(train_args(built_dataset, run, "--limit", "1", "--repeat-batch", "--lr", lr,
                           "--epoch-steps", "50", "--max-epochs", "1", "--conditioning", conditioning, *extra)) == 0
    values = losses(run)
    assert len(values) == 50
    assert np.mean(values[-5:]) < np.mean(values[:5]) - 0.1
    for term in terms:
        values = losses(run, term)
        assert np.mean(values[-5:]) < np.mean(values[:5]), term
    with open(run / "valid.csv") as stream:
        validation = next(csv.DictReader(stream))
    assert ("pitch_page_f1" in validation) == bool(terms)
    if terms:
        assert all(0.0 <= float(validation[name]) <= 1.0 for name in ("pitch_page_f1", "pitch_audio_f1"))
    model, record = checkpoint.load(run / "best")
    assert record["training"]["steps"] == 50 and "f1" in record["validation"]
    assert model.config.conditioning == conditioning


def test_resume_continues_exactly(built_dataset, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(train_args(built_dataset, straight, "--epoch-steps", "4", "--max-epochs", "2")) == 0
    assert main(train_args(built_dataset, split, "--epoch-steps", "4", "--max-epochs", "1")) == 0
    assert main(train_args(built_dataset, split, "--epoch-steps", "4", "--max-epochs", "2", "--resume")) == 0
    assert losses(split) == pytest.approx(losses(straight), abs=1e-6)
    a, b = load_file(str(straight / "last" / "state.safetensors")), load_file(str(split / "last" / "state.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name].float().numpy(), b[name].float().numpy(), atol=1e-6, err_msg=name)


def test_killed_run_resumes_from_its_last_state(built_dataset, tmp_path):
    run = tmp_path / "killed"
    command = [sys.executable, "-m", "sheetsync", *train_args(built_dataset, run, "--epoch-steps", "1000",
                                                              "--max-epochs", "1", "--checkpoint-minutes", "0")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not (run / "last" / "state.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    saved = json.loads((run / "last" / "state.json").read_text())["loop"]["step"]
    assert 0 < saved < 1000
    assert main(train_args(built_dataset, run, "--epoch-steps", str(saved + 3), "--max-epochs", "1",
                           "--resume")) == 0
    values = losses(run)
    assert len(values) >= saved + 3
    assert json.loads((run / "last" / "state.json").read_text())["loop"]["step"] == saved + 3


def test_two_process_ddp_on_cpu(built_dataset, tmp_path):
    run = tmp_path / "ddp"
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                             "--master-port", "29517", "-m", "sheetsync",
                             *train_args(built_dataset, run, "--epoch-steps", "3", "--max-epochs", "1")],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((run / "last" / "state.json").read_text())
    assert len(record["ranks"]) == 2
    assert record["ranks"][0]["streams"] != record["ranks"][1]["streams"]
    assert checkpoint.load(run / "best")[1]["training"]["processes"] == 2


@pytest.mark.parametrize("extra, message", [
    (["--device", "cuda"], "CUDA is not available"),
    (["--conditioning", "film", "--pitch-weight", "1"], "pitch supervision needs match conditioning"),
    (["--conditioning", "match", "--pitch-weight", "1"], "with at least 28 features (match_dim), not match / 16"),
    (["--hearing-steps", "5"], "--hearing-steps needs the PH audio path"),
    (["--variant", "PH"], "learns what sounds from pitch supervision only"),
])
def test_bad_requests_are_clear(built_dataset, tmp_path, capsys, extra, message):
    if extra == ["--device", "cuda"]:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    assert main(train_args(built_dataset, tmp_path / "r", "--max-epochs", "1", "--epoch-steps", "1", *extra)) == 2
    assert message in capsys.readouterr().err


def test_run_folder_is_never_overwritten(built_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("keep")
    assert main(train_args(built_dataset, run, "--max-epochs", "1", "--epoch-steps", "1")) == 2
    assert "already holds other files" in capsys.readouterr().err
    assert [p.name for p in run.iterdir()] == ["notes.txt"]


def test_resume_refuses_a_different_run(built_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(train_args(built_dataset, run, "--max-epochs", "1", "--epoch-steps", "2")) == 0
    assert main(train_args(built_dataset, run, "--max-epochs", "2", "--epoch-steps", "2", "--lr", "1e-2",
                           "--resume")) == 2
    assert "different run (lr: 0.0001 -> 0.01)" in capsys.readouterr().err
    assert main(train_args(built_dataset, run, "--max-epochs", "2", "--epoch-steps", "2", "--conditioning", "match",
                           "--resume")) == 2
    assert "different run (model.conditioning: 'film' -> 'match')" in capsys.readouterr().err


def test_invalid_dataset_is_refused(tmp_path, capsys):
    (tmp_path / "set").mkdir()
    assert main(train_args(tmp_path / "set", tmp_path / "run", "--max-epochs", "1")) == 2
    assert "not a sheetsync dataset" in capsys.readouterr().err


def test_the_note_reader_learns_first_then_stays_frozen(built_dataset, tmp_path):
    notes = ["--page-path", "notes", "--reader-steps", "12", "--freeze-pages", "--pitch-weight", "1", "--lr", "1e-2",
             "--epoch-steps", "12"]
    assert main(train_args(built_dataset, tmp_path / "a", *notes, "--max-epochs", "1")) == 0  # reading only
    assert main(train_args(built_dataset, tmp_path / "b", *notes, "--max-epochs", "2")) == 0  # then matching
    reading = losses(tmp_path / "a")
    assert len(reading) == 12 and np.mean(reading[-3:]) < np.mean(reading[:3]) - 0.1
    assert losses(tmp_path / "b")[:12] == reading
    only_read, then_matched = (load_file(tmp_path / run / "best" / "model.safetensors") for run in "ab")
    reader = [name for name in only_read if name.startswith("reader.")]
    audio = [name for name in only_read if name.startswith("audio.") and "weight" in name]
    assert reader and all(torch.equal(only_read[n], then_matched[n]) for n in reader)
    assert any(not torch.equal(only_read[n], then_matched[n]) for n in audio)
    with open(tmp_path / "b" / "valid.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["step"]) for r in rows] == [12, 24]
    assert all(0.0 <= float(r["pitch_page_f1"]) <= 1.0 for r in rows)
    model, record = checkpoint.load(tmp_path / "b" / "best")
    assert model.config.page_path == "notes" and record["training"]["steps"] == 24


def test_the_ph_encoder_hears_before_the_match_learns(built_dataset, tmp_path):
    ph = ["--page-path", "notes", "--variant", "PH", "--reader-steps", "4", "--hearing-steps", "10", "--freeze-pages",
          "--pitch-weight", "1", "--lr", "1e-2", "--epoch-steps", "14"]
    assert main(train_args(built_dataset, tmp_path / "a", *ph, "--max-epochs", "1")) == 0  # reading, hearing
    assert main(train_args(built_dataset, tmp_path / "b", *ph, "--max-epochs", "2")) == 0  # then matching
    hearing = losses(tmp_path / "a", "hearing")
    assert len(hearing) == 10 and np.mean(hearing[-3:]) < np.mean(hearing[:3])
    assert losses(tmp_path / "b")[:14] == losses(tmp_path / "a")
    heard, matched = (load_file(tmp_path / run / "best" / "model.safetensors") for run in "ab")
    model, _ = checkpoint.load(tmp_path / "a" / "best")
    torch.manual_seed(1)  # the run's seed: the weights it started from
    fresh = ScoreFollower(model.config).state_dict()
    assert not torch.equal(heard["audio.encoder.frames.0.weight"], fresh["audio.encoder.frames.0.weight"])
    assert torch.equal(heard["query.weight"], fresh["query.weight"])  # hearing leaves the match alone
    assert not torch.equal(matched["query.weight"], heard["query.weight"])
    assert all(torch.equal(heard[n], matched[n]) for n in heard if n.startswith("reader."))


def test_a_layer_is_started_from_whole_or_not_at_all(built_dataset, tmp_path):
    notes = ["--page-path", "notes", "--max-epochs", "1", "--epoch-steps", "1", "--lr", "0", "--pitch-weight", "1"]
    assert main(train_args(built_dataset, tmp_path / "cb", *notes)) == 0
    assert main(train_args(built_dataset, tmp_path / "ph", *notes, "--variant", "PH", "--init",
                           str(tmp_path / "cb" / "best"))) == 0
    source, started = (load_file(tmp_path / run / "best" / "model.safetensors") for run in ("cb", "ph"))
    assert torch.equal(source["reader.layers.0.weight"], started["reader.layers.0.weight"])
    # The query's bias has the same shape in both, but its weights do not: it keeps the PH model's own start.
    assert source["query.bias"].shape == started["query.bias"].shape
    assert not torch.equal(source["query.bias"], started["query.bias"])


def test_a_run_can_start_from_a_checkpoint(built_dataset, tmp_path, capsys):
    assert main(train_args(built_dataset, tmp_path / "a", "--max-epochs", "1", "--epoch-steps", "3")) == 0
    capsys.readouterr()
    assert main(train_args(built_dataset, tmp_path / "b", "--max-epochs", "1", "--epoch-steps", "2", "--lr", "0",
                           "--init", str(tmp_path / "a" / "best"))) == 0
    started, trained = (load_file(tmp_path / run / "best" / "model.safetensors") for run in "ab")
    assert f"started from {len(started)} of {len(started)} weights" in capsys.readouterr().out
    assert all(torch.equal(started[name], trained[name]) for name in started)  # nothing moved at lr 0
    notes = train_args(built_dataset, tmp_path / "c", "--max-epochs", "1", "--epoch-steps", "1", "--page-path",
                       "notes", "--init", str(tmp_path / "a" / "best"))
    assert main(notes) == 0  # only the audio path fits a note-reader model
    assert "started from" in capsys.readouterr().out
