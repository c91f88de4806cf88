"""`sheetsync data build`: engrave, perform and synthesise scores into a dataset.

Each piece of music becomes several renderings ("variants"), each with its own
page layout, tempo curve and timbre; all variants of one piece share a split.
Pieces are written atomically and skipped when already there, so a build
resumes where it stopped; `dataset.json` is written last.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from sheetsync import __version__
from sheetsync.audio.features import SAMPLE_RATE
from sheetsync.data.sources import ScoreSource
from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)

BUILD_MARKER = ".sheetsync-build.json"
DEFAULT_FOLK_TUNES = 300
DEFAULT_COMPOSED = 150
SPLIT_SHARES = {"valid": 0.05, "test": 0.05}


@dataclass(frozen=True)
class BuildSettings:
    """What every worker needs to render a piece; also recorded in the output folder."""

    out: Path
    seed: int = 0
    variants: int = 3
    dpi: float = 100.0
    pdf: bool = False

    def marker(self) -> dict:
        return {"seed": self.seed, "variants": self.variants, "dpi": self.dpi}


@dataclass(frozen=True)
class MusicResult:
    """What happened to one piece of music."""

    music: str
    pieces: tuple[str, ...]
    built: int
    pages: int
    seconds: float
    error: str | None = None


def build_command(args) -> int:
    """Run `sheetsync data build` from parsed arguments."""
    settings = BuildSettings(Path(args.out), args.seed, args.tempo_variants, pdf=args.pdf)
    if settings.variants < 1:
        raise SheetsyncError("--tempo-variants must be at least 1")
    sources = select_sources(args.sources, args.seed, args.limit, args.composed, args.evaluation, args.composed_only)
    if not sources:
        raise SheetsyncError("nothing to build: no score sources")
    started = time.monotonic()
    results = build(sources, settings, workers=args.workers or os.cpu_count() or 1)
    report(results, settings.out, time.monotonic() - started)
    return 0 if any(r.pieces for r in results) else 1


def select_sources(paths: list[str], seed: int, limit: int | None, composed: int | None,
                   evaluation: bool, composed_only: bool = False) -> list[ScoreSource]:
    """The pieces of music to build: the user's files, the default corpus, or (composed_only) just composed
    pieces; a seeded sample of `limit`."""
    from sheetsync.data.sources import composed_sources, sources_from_paths

    if composed_only and paths:
        raise SheetsyncError("--composed-only builds composed pieces alone: leave out the score sources "
                             f"({paths[0]}{' ...' if len(paths) > 1 else ''})")
    corpus_composed = DEFAULT_COMPOSED if composed is None else composed  # without sources, as many as the corpus
    if composed_only:
        sources = composed_sources(seed, corpus_composed)
    elif paths:
        sources = sources_from_paths(paths, allow_reserved=evaluation)
        sources += composed_sources(seed, composed or 0)
    else:
        from sheetsync.data.corpus import default_sources

        folk = DEFAULT_FOLK_TUNES if limit is None else min(limit, DEFAULT_FOLK_TUNES)
        sources = default_sources(seed, folk, corpus_composed)
    if limit is not None and limit < len(sources):
        chosen = np.random.default_rng(seed).permutation(len(sources))[:limit]
        sources = [sources[i] for i in sorted(chosen)]
    return sources


def build(sources: list[ScoreSource], settings: BuildSettings, workers: int) -> list[MusicResult]:
    """Build every source into `settings.out` with `workers` processes; write dataset.json last."""
    from tqdm import tqdm

    prepare_output(settings)
    results: list[MusicResult] = []
    progress = tqdm(total=len(sources), unit="piece", desc="building", dynamic_ncols=True)
    if workers <= 1:
        outcomes = (build_music(source, settings) for source in sources)
        pool = None
    else:
        pool = get_context("spawn").Pool(workers, initializer=_quiet_worker)
        outcomes = pool.imap_unordered(_build_music_star, [(s, settings) for s in sources])
    try:
        for result in outcomes:
            results.append(result)
            if result.error:
                progress.write(f"warning: skipped {result.music}: {result.error}")
            progress.update(1)
            progress.set_postfix(pages=sum(r.pages for r in results),
                                 hours=f"{sum(r.seconds for r in results) / 3600:.1f}")
    finally:
        progress.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    write_index(settings, sources, results)
    return results


def _quiet_worker() -> None:
    logging.getLogger().setLevel(logging.ERROR)


def _build_music_star(args) -> MusicResult:
    return build_music(*args)


def prepare_output(settings: BuildSettings) -> None:
    """Create the output folder, or accept one of our own builds with the same settings; refuse anything else."""
    out, marker_path = settings.out, settings.out / BUILD_MARKER
    if out.exists() and not out.is_dir():
        raise SheetsyncError(f"output '{out}' exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not marker_path.exists():
            raise SheetsyncError(f"output folder '{out}' already holds other files; choose a new or empty folder")
        previous = json.loads(marker_path.read_text())
        if {k: previous.get(k) for k in settings.marker()} != settings.marker():
            raise SheetsyncError(f"output folder '{out}' holds a build with other settings {previous}; "
                                 f"resume with the same --seed and --tempo-variants, or choose a new folder")
        return
    out.mkdir(parents=True, exist_ok=True)
    marker_path.write_text(json.dumps({**settings.marker(), "generator": f"sheetsync {__version__}"}))


def variant_ids(source: ScoreSource, variants: int) -> list[str]:
    return [f"{source.id}-v{k + 1}" for k in range(variants)]


def build_music(source: ScoreSource, settings: BuildSettings) -> MusicResult:
    """Render every missing variant of one piece of music; never raises for a bad score."""
    ids = variant_ids(source, settings.variants)
    done = [pid for pid in ids if (settings.out / pid / "piece.json").exists()]
    if len(done) == len(ids):
        return MusicResult(source.id, tuple(ids), 0, 0, 0.0)
    pages = 0
    seconds = 0.0
    try:
        title, text = source.load()
        for k, piece_id in enumerate(ids):
            if piece_id in done:
                continue
            rng = np.random.default_rng([settings.seed, zlib.crc32(source.id.encode()), k])
            n_pages, duration = render_variant(source, title, text, piece_id, rng, settings)
            pages += n_pages
            seconds += duration
    except SheetsyncError as error:
        return MusicResult(source.id, tuple(p for p in ids if (settings.out / p / "piece.json").exists()),
                           0, pages, seconds, str(error))
    except Exception as error:  # a score that trips verovio/music21 must not end the whole build
        return MusicResult(source.id, tuple(p for p in ids if (settings.out / p / "piece.json").exists()),
                           0, pages, seconds, f"{type(error).__name__}: {error}")
    return MusicResult(source.id, tuple(ids), len(ids) - len(done), pages, seconds)


def render_variant(source: ScoreSource, title: str, text: str, piece_id: str, rng: np.random.Generator,
                   settings: BuildSettings) -> tuple[int, float]:
    """Engrave, perform and synthesise one variant and write it as a piece; (pages, audio seconds)."""
    from sheetsync.data import format as fmt
    from sheetsync.data.engrave import engrave, random_style
    from sheetsync.data.performance import perform
    from sheetsync.data.synth import available_instruments, choose_instrument, render

    style = random_style(rng)
    engraving = engrave(text, style, dpi=settings.dpi, name=source.origin)
    performance = perform(engraving.notes, rng)
    instrument = choose_instrument(rng, available_instruments())
    audio = render(performance.notes, instrument, sample_rate=SAMPLE_RATE)
    files: dict[str, bytes] = {"audio.flac": flac_bytes(audio)}
    pages = []
    for index, image in enumerate(engraving.pages):
        name = f"page-{index + 1:02d}.png"
        files[name] = png_bytes(image)
        pages.append(fmt.Page(name, image.shape[1], image.shape[0], settings.dpi))
    if settings.pdf:
        files["score.pdf"] = pdf_bytes([files[p.image] for p in pages], engraving.dpi, pages)
    piece = fmt.Piece(
        id=piece_id,
        title=title or engraving.title or source.id,
        source=source.origin,
        engraver=f"verovio {_verovio_version()} ({style.font})",
        audio="audio.flac",
        pages=tuple(pages),
        systems=tuple(fmt.System(page, tuple(round(v, 2) for v in box)) for page, box in engraving.systems),
        onsets=performance.onsets,
        extra={"music": source.id, "variant": piece_id.rsplit("-v", 1)[-1], "layout": style.to_dict(),
               "tempo": performance.tempo, "instrument": instrument.name},
    )
    fmt.write_piece(settings.out, piece, files)
    return len(pages), len(audio) / SAMPLE_RATE


def _verovio_version() -> str:
    import verovio

    return verovio.toolkit(False).getVersion().split("-")[0]


def flac_bytes(audio: np.ndarray) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes(pngs: list[bytes], dpi: float, pages) -> bytes:
    """A PDF with one page per image, at the size the page was engraved."""
    import pymupdf

    document = pymupdf.open()
    for png, page in zip(pngs, pages):
        pdf_page = document.new_page(width=page.width * 72 / dpi, height=page.height * 72 / dpi)
        pdf_page.insert_image(pdf_page.rect, stream=png)
    return document.tobytes(deflate=True)


def assign_splits(music_ids: list[str], seed: int) -> dict[str, str]:
    """Music id -> split; every rendering of one piece lands in the same split."""
    order = sorted(music_ids)
    shuffled = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
    counts = {name: max(1, round(share * len(order))) if len(order) >= 3 else 0
              for name, share in SPLIT_SHARES.items()}
    splits, start = {}, 0
    for name, count in counts.items():
        splits.update({music: name for music in shuffled[start:start + count]})
        start += count
    splits.update({music: "train" for music in shuffled[start:]})
    return splits


def write_index(settings: BuildSettings, sources: list[ScoreSource], results: list[MusicResult]) -> None:
    """Write dataset.json for every finished piece of the requested music (last, atomically)."""
    from sheetsync.data.format import write_dataset_json

    by_music = {r.music: r for r in results}
    built = [s.id for s in sources if by_music.get(s.id) and by_music[s.id].pieces]
    split_of = assign_splits(built, settings.seed)
    pieces, splits = [], {"train": [], "valid": [], "test": []}
    for music in built:
        for piece_id in by_music[music].pieces:
            pieces.append(piece_id)
            splits[split_of[music]].append(piece_id)
    failures = {r.music: r.error for r in results if r.error}
    write_dataset_json(settings.out, pieces, {k: v for k, v in splits.items() if v},
                       extra={"generator": {"name": "sheetsync data build", "version": __version__,
                                            **settings.marker()},
                              "skipped": failures})


def report(results: list[MusicResult], out: Path, elapsed: float) -> None:
    """Print what the build made, and the size of the whole set."""
    from sheetsync.data.format import load_dataset, summarize

    skipped = sum(1 for r in results if r.error)
    print(f"built {sum(r.built for r in results)} new pieces ({sum(r.pages for r in results)} pages, "
          f"{sum(r.seconds for r in results) / 3600:.2f} h audio) in {elapsed / 60:.1f} min; "
          f"{skipped} pieces of music skipped")
    for line in summarize(load_dataset(out)):
        print(line)
