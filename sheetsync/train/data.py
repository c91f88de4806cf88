"""Training data in memory: per piece its spectrogram, model-sized pages and per-frame targets.

Spectrograms and resized pages are cached as .npz files (by piece and model
page height, keyed on the audio and piece.json modification times) so a
second run starts at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sheetsync.data.format import Dataset, read_page_image
from sheetsync.data.targets import band_masks, band_width, track
from sheetsync.train.pitch import printed_columns, sounding_pitches
from sheetsync.train.reading import printed_heads, system_boxes
from sheetsync.score.images import MODEL_PAGE_HEIGHT, model_scale, to_model_page


@dataclass
class PieceTensors:
    """One piece ready for training; targets in model pixels, page -1 where nothing plays yet."""

    id: str
    spectrogram: np.ndarray  # (frames, 78) float16
    pages: list[np.ndarray]  # (H, W) uint8 ink, 0..255
    page: np.ndarray  # (frames,) int16
    x: np.ndarray  # (frames,) float32
    y0: np.ndarray  # (frames,) float32, the system's top
    y1: np.ndarray  # (frames,) float32, the system's bottom
    band: float = band_width(MODEL_PAGE_HEIGHT)  # the target band's width in model pixels
    sounding: np.ndarray | None = None  # (frames, PITCH_BINS): pitch bins of the last onset (sheetsync.train.pitch)
    columns: list[np.ndarray] | None = None  # per page, its printed note columns (sheetsync.train.pitch)
    heads: list[np.ndarray] | None = None  # per page, its noteheads (sheetsync.train.reading)
    boxes: list[np.ndarray] | None = None  # per page, its systems' boxes

    def __len__(self) -> int:
        return len(self.page)


def load_piece_tensors(dataset: Dataset, piece_id: str, cache: Path | None = None,
                       page_height: int = MODEL_PAGE_HEIGHT) -> PieceTensors:
    """Read (or compute and cache) one piece's training tensors, pages `page_height` model pixels high."""
    piece = dataset.load_piece(piece_id)
    folder = dataset.piece_dir(piece_id)
    cached = _cache_path(cache, folder, piece.audio, page_height) if cache else None
    if cached is not None and cached.exists():
        with np.load(cached) as stored:
            spectrogram = stored["spectrogram"]
            pages = [stored[f"page{i}"] for i in range(len(piece.pages))]
    else:
        spectrogram = _spectrogram(folder, piece.audio, cache)
        pages = [np.round(to_model_page(read_page_image(folder / p.image), page_height) * 255).astype(np.uint8)
                 for p in piece.pages]
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(".tmp.npz")
            np.savez(temporary, spectrogram=spectrogram, **{f"page{i}": p for i, p in enumerate(pages)})
            temporary.replace(cached)
    truth = track(piece, len(spectrogram))
    scales = np.array([model_scale(p.height, page_height) for p in piece.pages])
    boxes = np.array([s.bbox for s in piece.systems], dtype=np.float32)
    system = np.maximum(truth.system, 0)
    scale = scales[np.maximum(truth.page, 0)]
    return PieceTensors(
        id=piece_id, spectrogram=spectrogram, pages=pages, page=truth.page.astype(np.int16),
        x=np.nan_to_num(truth.x * scale).astype(np.float32),
        y0=(boxes[system, 1] * scale).astype(np.float32), y1=(boxes[system, 3] * scale).astype(np.float32),
        band=band_width(page_height), sounding=sounding_pitches(piece, len(spectrogram)),
        columns=[printed_columns(piece, number, scale) for number, scale in enumerate(scales)],
        heads=[printed_heads(piece, number, scale) for number, scale in enumerate(scales)],
        boxes=[system_boxes(piece, number, scale) for number, scale in enumerate(scales)])


def _spectrogram(folder: Path, audio: str, cache: Path | None) -> np.ndarray:
    """The piece's spectrogram, from a cache file of another page height when there is one."""
    if cache is not None:
        stem = _cache_path(cache, folder, audio, MODEL_PAGE_HEIGHT).name.removesuffix(".npz")
        for other in cache.glob(f"{stem}*.npz"):
            with np.load(other) as stored:
                return stored["spectrogram"]
    from sheetsync.audio.features import spectrogram as compute
    from sheetsync.audio.io import load_audio

    return compute(load_audio(folder / audio)).astype(np.float16)


def _cache_path(cache: Path, folder: Path, audio: str, page_height: int) -> Path:
    stamp = f"{folder.resolve()}:{(folder / audio).stat().st_mtime_ns}:{(folder / 'piece.json').stat().st_mtime_ns}"
    height = "" if page_height == MODEL_PAGE_HEIGHT else f"-h{page_height}"
    return cache / f"{folder.name}-{hashlib.sha1(stamp.encode()).hexdigest()[:12]}{height}.npz"


def spectrogram_statistics(pieces: list[PieceTensors]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and standard deviation over every training frame."""
    total = sum(len(p.spectrogram) for p in pieces)
    mean = sum(p.spectrogram.astype(np.float64).sum(0) for p in pieces) / total
    square = sum((p.spectrogram.astype(np.float64) ** 2).sum(0) for p in pieces) / total
    return mean.astype(np.float32), np.sqrt(np.maximum(square - mean ** 2, 1e-10)).astype(np.float32)


def windows(spectrogram: np.ndarray, frames: np.ndarray, context: int) -> np.ndarray:
    """(len(frames), bins, context): for each frame, the last `context` frames up to it, zeros before the start."""
    padded = np.concatenate([np.zeros((context - 1, spectrogram.shape[1]), spectrogram.dtype), spectrogram])
    index = frames[:, None] + np.arange(context)[None, :]
    return np.ascontiguousarray(padded[index].transpose(0, 2, 1))


def target_masks(piece: PieceTensors, frames: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(len(frames), H, W) target masks of a piece's frames (empty before the first onset)."""
    x = np.where(piece.page[frames] >= 0, piece.x[frames], np.nan)
    return band_masks(x, piece.y0[frames], piece.y1[frames], shape, piece.band)
