import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sheetsync import __version__
from sheetsync.errors import SheetsyncError
from sheetsync.model import checkpoint
from tests.model.tiny import random_pages, random_windows, tiny_model

METADATA = {"data": {"pieces": 3, "hours": 0.1}, "metrics": {"validation_loss": 0.25}, "training": {"steps": 3}}


@pytest.mark.parametrize("variant", ["CB", "FB", "NTC"])
def test_round_trip_gives_identical_outputs(tmp_path, variant):
    model = tiny_model(variant)
    folder = checkpoint.save(tmp_path / "ck", model, METADATA)
    loaded, record = checkpoint.load(folder)
    assert not loaded.training and loaded.config == model.config
    pages, windows = random_pages(), random_windows(model)
    with torch.no_grad():
        assert torch.equal(loaded(pages, windows)[0], model(pages, windows)[0])
    assert torch.equal(loaded.audio.mean, model.audio.mean) and torch.equal(loaded.audio.std, model.audio.std)


def test_layout_and_record(tmp_path):
    model = tiny_model()
    folder = checkpoint.save(tmp_path / "ck", model, METADATA)
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.safetensors"]  # no temporaries left
    record = json.loads((folder / "model.json").read_text())
    assert (record["format"], record["version"], record["sheetsync_version"]) == ("sheetsync-checkpoint", 1, __version__)
    assert record["model"] == model.config.to_dict()
    assert {k: record["features"][k] for k in ("sample_rate", "fps", "frame_size", "bins", "context_frames")} == {
        "sample_rate": 22050, "fps": 20, "frame_size": 2048, "bins": 78, "context_frames": 40}
    assert record["normalisation"]["tensors"] == ["audio.mean", "audio.std"]
    assert record["weights"]["bytes"] == (folder / "model.safetensors").stat().st_size
    assert {k: record[k] for k in METADATA} == METADATA


def test_weights_are_plain_safetensors(tmp_path):
    from safetensors.torch import load_file

    model = tiny_model()
    folder = checkpoint.save(tmp_path / "ck", model)
    tensors = load_file(folder / "model.safetensors")
    assert tensors.keys() == model.state_dict().keys()
    assert torch.equal(tensors["audio.mean"], model.audio.mean)


@pytest.mark.parametrize("name", [None, "model.json", "model.safetensors"])
def test_load_accepts_the_folder_or_either_file(tmp_path, name):
    folder = checkpoint.save(tmp_path / "ck", tiny_model())
    model, _ = checkpoint.load(folder / name if name else str(folder))
    assert model.config.hidden == 16


def test_saving_over_a_checkpoint_replaces_it(tmp_path):
    checkpoint.save(tmp_path / "ck", tiny_model(seed=1), {"metrics": {"loss": 1.0}})
    second = tiny_model(seed=2, hidden=8)
    checkpoint.save(tmp_path / "ck", second, {"metrics": {"loss": 0.5}})
    loaded, record = checkpoint.load(tmp_path / "ck")
    assert record["metrics"] == {"loss": 0.5} and loaded.config.hidden == 8
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), second.state_dict().values()))


def test_a_channels_last_model_saves_plain_weights(tmp_path):
    model = tiny_model().use_channels_last()
    loaded, _ = checkpoint.load(checkpoint.save(tmp_path / "ck", model))
    page = random_pages(1)
    z, _ = model.step(random_windows(model, 1, 1)[0, 0])
    torch.testing.assert_close(loaded.predict(loaded.prepare_page(page), z), model.predict(model.prepare_page(page), z))


def test_metadata_may_not_overwrite_the_record(tmp_path):
    with pytest.raises(ValueError, match="model"):
        checkpoint.save(tmp_path / "ck", tiny_model(), {"model": {}})


def _edit_record(folder: Path, **changes) -> None:
    record = json.loads((folder / "model.json").read_text())
    for key, value in changes.items():
        if value is None:
            record.pop(key)
        elif isinstance(value, dict) and isinstance(record.get(key), dict):
            record[key] = {**record[key], **value}
        else:
            record[key] = value
    (folder / "model.json").write_text(json.dumps(record))


def _foreign_weights(folder: Path) -> None:
    other = checkpoint.save(folder.parent / "other", tiny_model(seed=5))
    (folder / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())


BAD = {
    "missing record": (lambda f: (f / "model.json").unlink(), "no checkpoint at .*ck'.*holds no model.json"),
    "missing weights": (lambda f: (f / "model.safetensors").unlink(), "ck' has no weights file model.safetensors"),
    "corrupt record": (lambda f: (f / "model.json").write_text("{not json"), "model.json' is corrupt"),
    "not a record": (lambda f: (f / "model.json").write_text('{"format": "other"}'),
                     "model.json' is not a sheetsync checkpoint"),
    "newer version": (lambda f: _edit_record(f, version=2), "model.json' has format version 2.* reads version 1"),
    "truncated weights": (lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:100]),
                          "model.safetensors' are corrupt"),
    "garbage weights, no checksum": (lambda f: (_edit_record(f, weights=None),
                                                (f / "model.safetensors").write_bytes(b"\x00" * 64)),
                                     "model.safetensors' are corrupt"),
    "weights of another model": (_foreign_weights, "model.safetensors' are corrupt or do not belong"),
    "config not matching the weights": (lambda f: _edit_record(f, model={"hidden": 32}),
                                        "model.safetensors' do not match the model described in .*model.json"),
    "unusable config": (lambda f: _edit_record(f, model={"variant": "XL"}),
                        "model.json' has an unusable model configuration: unknown model variant"),
    "other features": (lambda f: _edit_record(f, features={"fps": 50}),
                       "model.json' was trained on other audio features: fps 50"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_checkpoints_are_clear_errors(tmp_path, case):
    damage, message = BAD[case]
    folder = checkpoint.save(tmp_path / "ck", tiny_model())
    damage(folder)
    with pytest.raises(SheetsyncError, match=message):
        checkpoint.load(folder)


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SheetsyncError, match="does not exist"):
        checkpoint.load(tmp_path / "nowhere")


def test_loading_imports_no_training_code(tmp_path):
    folder = checkpoint.save(tmp_path / "ck", tiny_model())
    script = ("import sys; from sheetsync.model import checkpoint; checkpoint.load(sys.argv[1]); "
              "print(sorted(m for m in sys.modules if m.startswith(('sheetsync.train', 'sheetsync.data'))))")
    result = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_numpy_metadata_is_written_as_plain_json(tmp_path):
    import numpy as np

    folder = checkpoint.save(tmp_path / "ck", tiny_model(), {"metrics": {"loss": np.float32(0.5), "per_bin": np.ones(2)}})
    assert checkpoint.read_record(folder)["metrics"] == {"loss": 0.5, "per_bin": [1.0, 1.0]}


def test_unserialisable_metadata_fails_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        checkpoint.save(tmp_path / "ck", tiny_model(), {"training": {"optimiser": object()}})
    assert not (tmp_path / "ck").exists()


def test_a_file_is_not_a_checkpoint(tmp_path):
    (tmp_path / "weights.pt").write_bytes(b"x")
    with pytest.raises(SheetsyncError, match="weights.pt': that is a file"):
        checkpoint.load(tmp_path / "weights.pt")
