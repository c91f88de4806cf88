"""Checkpoints: weights in safetensors (never pickled) beside a JSON record.

Layout: a folder holding `model.safetensors` and `model.json`. The JSON holds
the format and its version, the model configuration, the feature settings the
model was trained with, and whatever the trainer records (data summary,
validation metrics, how it was trained). The per-bin spectrogram
normalisation lives with the weights as buffers. Loading builds the network
from the JSON and needs nothing from the training code.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sheetsync import __version__
from sheetsync.errors import SheetsyncError
from sheetsync.model.config import ModelConfig

FORMAT = "sheetsync-checkpoint"
VERSION = 1
WEIGHTS = "model.safetensors"
RECORD = "model.json"
DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "default"


def feature_settings() -> dict:
    from sheetsync.audio import features

    return {"sample_rate": features.SAMPLE_RATE, "fps": features.FPS, "frame_size": features.FRAME_SIZE,
            "bins": features.N_BINS, "filterbank": "log 12/oct 60-6000 Hz, norm, non-unique", "log": "log10(1+x)"}


def save(folder: str | Path, model, metadata: dict | None = None) -> Path:
    """Write the model's weights and record into `folder` atomically (weights first, JSON last)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "version": VERSION, "sheetsync": __version__, "model": model.config.to_dict(),
              "features": feature_settings(), **(metadata or {})}
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    _atomic(folder / WEIGHTS, lambda path: save_file(tensors, str(path)))
    _atomic(folder / RECORD, lambda path: Path(path).write_text(json.dumps(record, indent=1)))
    return folder


def _atomic(target: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def resolve(path: str | Path | None) -> Path:
    """The checkpoint folder for a folder, either of its files, or None (the shipped default)."""
    path = DEFAULT_CHECKPOINT if path is None else Path(path)
    if path.name in (WEIGHTS, RECORD):
        path = path.parent
    return path


def read_record(path: str | Path | None) -> dict:
    """The JSON record of a checkpoint, checked for format and version."""
    folder = resolve(path)
    record_path = folder / RECORD
    if not record_path.is_file():
        raise SheetsyncError(f"no checkpoint at '{folder}' (expected {RECORD} and {WEIGHTS} there)")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SheetsyncError(f"checkpoint record '{record_path}' is corrupt: {error}") from error
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise SheetsyncError(f"'{record_path}' is not a sheetsync checkpoint")
    if record.get("version") != VERSION:
        raise SheetsyncError(f"checkpoint '{folder}' has format version {record.get('version')}; "
                             f"this sheetsync reads version {VERSION}")
    return record


def load(path: str | Path | None = None, device: str = "cpu"):
    """(model in eval mode, record) from a checkpoint folder or file; a clear error for anything wrong."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from sheetsync.model.network import ScoreFollower

    folder = resolve(path)
    record = read_record(folder)
    try:
        config = ModelConfig.from_dict(record["model"])
    except (KeyError, TypeError, ValueError) as error:
        raise SheetsyncError(f"checkpoint '{folder}' has an unusable model configuration: {error}") from error
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise SheetsyncError(f"checkpoint '{folder}' has no {WEIGHTS}")
    try:
        tensors = load_file(str(weights), device=device)
    except (SafetensorError, OSError, ValueError) as error:
        raise SheetsyncError(f"checkpoint weights '{weights}' are corrupt: {error}") from error
    model = ScoreFollower(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise SheetsyncError(f"checkpoint weights '{weights}' do not match its configuration: "
                             f"{str(error).splitlines()[0]}") from error
    return model.to(device).eval(), record
