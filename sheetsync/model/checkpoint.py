"""Checkpoints: weights in safetensors (never pickled) beside a JSON record.

On disk a checkpoint is a folder holding two files:

    checkpoints/default/
        model.safetensors   every parameter and buffer of the ScoreFollower,
                            float32, named as in its state_dict; this includes
                            the spectrogram normalisation (`audio.mean`,
                            `audio.std`, one value per bin)
        model.json          the record, written last:
            format            "sheetsync-checkpoint"
            version           1 (the layout of this record)
            sheetsync_version the code that wrote it
            created           UTC time, ISO 8601
            model             the ModelConfig (to_dict)
            features          sample_rate, fps, frame_size, bins, context_frames,
                              ... (the audio features the model expects)
            normalisation     where the per-bin statistics live (the tensor names)
            weights           file name, size in bytes and sha256 of the weights
            ...               the caller's metadata, e.g. "data" (training data
                              summary), "metrics" (validation), "training"

`save` checks everything first, then writes both files atomically (a
temporary file, flushed, then os.replace; the weights first, the JSON
last); the sha256 in the record catches a weights file that does not belong
to it (a save interrupted between the two renames, a copied-over file). `load` accepts the folder or either file in it, builds the
network from the record alone (no training code is imported) and raises
SheetsyncError, naming the file, for anything missing, corrupt, of another
format version or not matching.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sheetsync import __version__
from sheetsync.errors import SheetsyncError
from sheetsync.model.config import ModelConfig

FORMAT = "sheetsync-checkpoint"
VERSION = 1
WEIGHTS = "model.safetensors"
RECORD = "model.json"
NORMALISATION_TENSORS = ("audio.mean", "audio.std")
RESERVED = ("format", "version", "sheetsync_version", "created", "model", "features", "normalisation", "weights")


def default_checkpoint() -> Path:
    """The shipped model: installed as package data, or checkpoints/default in a source tree."""
    try:
        from importlib.resources import files

        folder = Path(str(files("sheetsync.checkpoints") / "default"))
        if folder.is_dir():
            return folder
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "checkpoints" / "default"
_CHECKED_FEATURES = ("sample_rate", "fps", "frame_size", "bins")


def feature_settings(config: ModelConfig) -> dict:
    """The audio features a model of this configuration reads (this code's spectrogram)."""
    from sheetsync.audio import features

    return {"sample_rate": features.SAMPLE_RATE, "fps": features.FPS, "frame_size": features.FRAME_SIZE,
            "bins": features.N_BINS, "context_frames": config.frames_in,
            "filterbank": f"logarithmic, {features.BANDS_PER_OCTAVE} per octave, "
                          f"{features.FMIN:g}-{features.FMAX:g} Hz, normalised, duplicates kept",
            "magnitude": "log10(1 + x)"}


def resolve(path: str | Path | None) -> Path:
    """The checkpoint folder for a folder, either of its two files, or None (the shipped default)."""
    path = default_checkpoint() if path is None else Path(path)
    return path.parent if path.name in (WEIGHTS, RECORD) else path


def save(path: str | Path, model, metadata: dict | None = None) -> Path:
    """Write `model` and its record into the folder `path` (created if needed); returns the folder.

    `metadata` is merged into the record (JSON-serialisable, numpy and torch
    scalars and arrays allowed; keys such as "data", "metrics", "training");
    it may not use the record's own keys. Everything is checked before
    anything is written.
    """
    from safetensors.torch import save as serialise

    metadata = dict(metadata or {})
    clashes = sorted(set(metadata) & set(RESERVED))
    if clashes:
        raise ValueError(f"metadata may not set the checkpoint's own fields: {', '.join(clashes)}")
    tensors = {name: tensor.detach().to("cpu", copy=True).contiguous() for name, tensor in model.state_dict().items()}
    weights = serialise(tensors)
    record = {"format": FORMAT, "version": VERSION, "sheetsync_version": __version__,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "model": model.config.to_dict(), "features": feature_settings(model.config),
              "normalisation": {"tensors": list(NORMALISATION_TENSORS), "in": WEIGHTS},
              "weights": {"file": WEIGHTS, "bytes": len(weights), "sha256": hashlib.sha256(weights).hexdigest()},
              **metadata}
    try:
        text = json.dumps(record, indent=2, allow_nan=False, default=_plain) + "\n"
    except (TypeError, ValueError) as error:
        raise ValueError(f"checkpoint metadata is not JSON-serialisable: {error}") from error
    folder = resolve(path)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / WEIGHTS, weights)
    _write_atomically(folder / RECORD, text.encode())
    return folder


def _plain(value):
    """JSON for numpy and torch scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def read_record(path: str | Path | None = None) -> dict:
    """A checkpoint's JSON record, checked for format and version (needs no torch)."""
    folder = resolve(path)
    record_path = folder / RECORD
    if not record_path.is_file():
        found = ("the folder does not exist" if not folder.exists() else
                 "that is a file" if folder.is_file() else f"it holds no {RECORD}")
        raise SheetsyncError(f"no checkpoint at '{folder}': {found} (a checkpoint is a folder with {RECORD} "
                             f"and {WEIGHTS})")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SheetsyncError(f"checkpoint record '{record_path}' is corrupt: {error}") from error
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise SheetsyncError(f"'{record_path}' is not a sheetsync checkpoint record")
    if record.get("version") != VERSION:
        raise SheetsyncError(f"checkpoint '{record_path}' has format version {record.get('version')!r}, "
                             f"but this sheetsync ({__version__}) reads version {VERSION}")
    return record


def load(path: str | Path | None = None, device: str = "cpu"):
    """(model in eval mode, record) from a checkpoint folder or either of its files; None: the default."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    from sheetsync.model.network import ScoreFollower

    folder = resolve(path)
    record = read_record(folder)
    record_path, weights = folder / RECORD, folder / WEIGHTS
    config = _config(record, record_path)
    _check_features(record, record_path)
    if not weights.is_file():
        raise SheetsyncError(f"checkpoint '{folder}' has no weights file {WEIGHTS}")
    data = weights.read_bytes()
    recorded = record.get("weights")
    expected = recorded.get("sha256") if isinstance(recorded, dict) else None
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise SheetsyncError(f"checkpoint weights '{weights}' are corrupt or do not belong to '{record_path}' "
                             f"(their sha256 differs from the one recorded)")
    try:
        tensors = load_tensors(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise SheetsyncError(f"checkpoint weights '{weights}' are corrupt: {error}") from error
    model = ScoreFollower(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        details = " ".join(line.strip() for line in str(error).splitlines()[1:4])
        raise SheetsyncError(f"checkpoint weights '{weights}' do not match the model described in "
                             f"'{record_path}': {details}") from error
    return model.to(device).eval(), record


def _config(record: dict, record_path: Path) -> ModelConfig:
    try:
        return ModelConfig.from_dict(record["model"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SheetsyncError(f"checkpoint record '{record_path}' has an unusable model configuration: "
                             f"{error}") from error


def _check_features(record: dict, record_path: Path) -> None:
    """The record's audio features must be the ones this code computes."""
    from sheetsync.audio import features

    current = {"sample_rate": features.SAMPLE_RATE, "fps": features.FPS, "frame_size": features.FRAME_SIZE,
               "bins": features.N_BINS}
    stored = record.get("features") if isinstance(record.get("features"), dict) else {}
    different = [f"{key} {stored[key]} (this code: {current[key]})" for key in _CHECKED_FEATURES
                 if key in stored and stored[key] != current[key]]
    if different:
        raise SheetsyncError(f"checkpoint '{record_path}' was trained on other audio features: "
                             f"{', '.join(different)}")


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside `target`, flush it to disk, then rename it over `target`."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes files private; a checkpoint is for sharing
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
