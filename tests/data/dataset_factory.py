"""Tiny valid datasets for tests: real PNG pages and real FLAC audio, written with the format's own writers.

    root = make_dataset(tmp_path / "set", n_pieces=3, splits={"train": 2, "test": 1})

Each page shows its systems as five-line staves with a notehead at every onset;
the audio has a short tone at every onset time.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

from sheetsync.data.format import Onset, Page, Piece, System, write_dataset_json, write_piece


def make_piece(piece_id: str, n_pages: int = 2, systems_per_page: int = 2, onsets_per_system: int = 4,
               page_size: tuple[int, int] = (400, 560), dpi: float = 50.0, spacing: float = 0.5,
               lead_in: float = 0.25, tail: float = 0.5, sample_rate: int = 22050, image_mode: str = "L",
               extra: dict | None = None) -> tuple[Piece, dict[str, bytes]]:
    """A valid piece and its files (name -> bytes); onsets `spacing` seconds apart, in reading order."""
    width, height = page_size
    band = height / systems_per_page
    pages, systems, onsets = [], [], []
    for page in range(n_pages):
        pages.append(Page(f"page-{page + 1:02d}.png", width, height, dpi))
        for row in range(systems_per_page):
            top = round(row * band + band * 0.25, 2)
            box = (0.05 * width, top, 0.95 * width, round(top + band * 0.5, 2))
            systems.append(System(page, box))
            for k in range(onsets_per_system):
                x = box[0] + (k + 0.5) * (box[2] - box[0]) / onsets_per_system
                time = round(lead_in + len(onsets) * spacing, 4)
                onsets.append(Onset(time, page, len(systems) - 1, round(x, 2), round((box[1] + box[3]) / 2, 2),
                                    60 + (len(onsets) % 12)))
    piece = Piece(piece_id, f"Test piece {piece_id}", "tests/data/dataset_factory.py", "dataset_factory",
                  "audio.flac", tuple(pages), tuple(systems), tuple(onsets), dict(extra or {}))
    files = {p.image: page_png(piece, i, image_mode) for i, p in enumerate(pages)}
    files["audio.flac"] = tone_flac([o.time for o in onsets], onsets[-1].time + tail, sample_rate)
    return piece, files


def make_dataset(root: str | Path, n_pieces: int = 2, splits: Mapping[str, int | Sequence[str]] | None = None,
                 extra: dict | None = None, **piece_options) -> Path:
    """Write a valid set of `n_pieces` pieces ("piece-01", ...) at `root` and return `root`.

    `splits` maps a split name to piece ids, or to a count of the next pieces in
    order: {"train": 2, "test": 1}. `piece_options` go to `make_piece`.
    """
    root = Path(root)
    ids = [f"piece-{i + 1:02d}" for i in range(n_pieces)]
    for piece_id in ids:
        write_piece(root, *make_piece(piece_id, **piece_options))
    named, start = {}, 0
    for name, members in (splits or {}).items():
        if isinstance(members, int):
            members, start = ids[start:start + members], start + members
        named[name] = list(members)
    write_dataset_json(root, ids, named or None, extra)
    return root


def page_png(piece: Piece, index: int, mode: str = "L") -> bytes:
    """Page `index` of `piece` drawn as PNG in `mode` ("L", "RGB", "RGBA", "LA"): staves and noteheads."""
    page = piece.pages[index]
    ink = np.zeros((page.height, page.width), dtype=bool)
    for system_index, system in enumerate(piece.systems):
        if system.page != index:
            continue
        x0, y0, x1, y1 = (int(round(v)) for v in system.bbox)
        for line in np.linspace(y0, y1 - 1, 5).round().astype(int):
            ink[line, x0:x1] = True
        for onset in piece.onsets:
            if onset.system == system_index:
                cx, cy = int(onset.x), int(onset.y if onset.y is not None else (y0 + y1) / 2)
                ink[max(cy - 2, 0):cy + 3, max(cx - 3, 0):cx + 4] = True
    grey = np.where(ink, 0, 255).astype(np.uint8)
    image = Image.fromarray(grey, "L")
    if mode in ("LA", "RGBA"):
        image = image.convert(mode[:-1])
        image.putalpha(Image.fromarray(np.where(ink, 255, 0).astype(np.uint8), "L"))  # ink opaque, paper clear
    elif mode != "L":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tone_flac(times: Sequence[float], duration: float, sample_rate: int = 22050) -> bytes:
    """Mono 16-bit FLAC of `duration` seconds with a decaying 440 Hz tone at each of `times`."""
    audio = np.zeros(int(round(duration * sample_rate)), dtype=np.float32)
    blip = np.arange(int(0.1 * sample_rate)) / sample_rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * blip) * np.exp(-blip * 30)).astype(np.float32)
    for time in times:
        start = int(time * sample_rate)
        piece = tone[:max(0, len(audio) - start)]
        audio[start:start + len(piece)] += piece
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()
