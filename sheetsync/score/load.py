"""Load a score as page images: a PDF (rasterised with pymupdf), page images, or a folder of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sheetsync.errors import SheetsyncError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
RENDER_DPI = 100


@dataclass
class Score:
    """The pages of a score in reading order, grey uint8 on white, with where they came from."""

    title: str
    pages: list[np.ndarray]
    sources: list[str]
    dpi: float | None


def load_score(paths: list[str | Path], dpi: float = RENDER_DPI) -> Score:
    """A score from one PDF, one or more page images, or a folder of page images (in the order given)."""
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise SheetsyncError(f"score '{path}' does not exist")
    if len(paths) == 1 and paths[0].is_dir():
        folder = paths[0]
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise SheetsyncError(f"folder '{folder}' holds no page images ({', '.join(IMAGE_SUFFIXES)})")
    if len(paths) == 1 and paths[0].suffix.lower() == ".pdf":
        return _load_pdf(paths[0], dpi)
    pages, sources = [], []
    for path in paths:
        if path.suffix.lower() == ".pdf":
            raise SheetsyncError(f"give a PDF on its own, not mixed with other pages: '{path}'")
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise SheetsyncError(f"'{path}' is neither a PDF nor a page image ({', '.join(IMAGE_SUFFIXES)})")
        pages.append(_read_image(path))
        sources.append(str(path))
    return Score(paths[0].stem, pages, sources, None)


def _load_pdf(path: Path, dpi: float) -> Score:
    import pymupdf

    try:
        document = pymupdf.open(path)
    except Exception as error:  # pymupdf raises its own FileDataError and others
        raise SheetsyncError(f"cannot open PDF '{path}': {error}") from error
    with document:
        if document.needs_pass:
            raise SheetsyncError(f"PDF '{path}' is encrypted; save an unprotected copy first")
        if document.page_count == 0:
            raise SheetsyncError(f"PDF '{path}' has no pages")
        pages = []
        for page in document:
            pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
            pages.append(np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width).copy())
        title = document.metadata.get("title") or path.stem
    return Score(title, pages, [f"{path}#page={i + 1}" for i in range(len(pages))], dpi)


def _read_image(path: Path) -> np.ndarray:
    from sheetsync.data.format import read_page_image

    try:
        image = read_page_image(path)
    except (OSError, ValueError) as error:
        raise SheetsyncError(f"cannot read page image '{path}': {error}") from error
    if min(image.shape) < 100:
        raise SheetsyncError(f"'{path}' is {image.shape[1]}x{image.shape[0]} pixels: too small to be a page")
    return image
