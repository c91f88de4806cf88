"""Score sources: files a user names, and the music21 corpus, as text verovio can load.

verovio reads MusicXML, MEI and Humdrum natively. ABC goes through music21
(verovio's own ABC import crashes on some tunes with repeats), one tune at a
time, and compressed MusicXML is unzipped and decoded here (some corpus files
are UTF-16, which verovio's loadFile rejects).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sheetsync.errors import SheetsyncError

SCORE_SUFFIXES = {".musicxml", ".mxl", ".xml", ".mei", ".krn", ".abc"}
ABC_TUNE_START = re.compile(r"^X:", re.MULTILINE)


@dataclass(frozen=True)
class ScoreSource:
    """One piece of music to engrave: a file, one tune of an ABC file, or a composed piece."""

    id: str
    origin: str
    path: Path | None = None
    tune: int = 0
    grand_staff: bool = False
    composed_seed: int | None = None

    def load(self) -> tuple[str, str]:
        """(title, score text) ready for verovio's loadData."""
        if self.composed_seed is not None:
            from sheetsync.data.compose import compose_piece

            piece = compose_piece(self.composed_seed)
            return piece.title, piece.musicxml
        suffix = self.path.suffix.lower()
        if suffix == ".abc":
            return abc_tune_to_musicxml(abc_tunes(self.path)[self.tune], self.path)
        text = read_score_text(self.path)
        if self.grand_staff:
            from sheetsync.data.grandstaff import four_parts_to_grand_staff

            text = four_parts_to_grand_staff(text)
        return "", text


def read_score_text(path: Path) -> str:
    """The text of a MusicXML/MEI/Humdrum file, unzipping .mxl and decoding any Unicode encoding."""
    try:
        if path.suffix.lower() == ".mxl":
            return _decode(_mxl_root_bytes(path))
        return _decode(path.read_bytes())
    except (OSError, zipfile.BadZipFile, KeyError, UnicodeDecodeError) as error:
        raise SheetsyncError(f"cannot read score file '{path}': {error}") from error


def _mxl_root_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "META-INF/container.xml" in names:
            container = archive.read("META-INF/container.xml").decode("utf-8", "replace")
            match = re.search(r'full-path="([^"]+)"', container)
            if match:
                return archive.read(match.group(1))
        scores = [n for n in names if not n.startswith("META-INF") and n.lower().endswith((".xml", ".musicxml"))]
        if not scores:
            raise KeyError("no MusicXML document inside the archive")
        return archive.read(scores[0])


def _decode(data: bytes) -> str:
    # verovio parses the string as given; an encoding declaration that no longer holds would confuse it.
    return re.sub(r'^(<\?xml[^>]*?)\s+encoding="[^"]*"', r"\1", _decode_bytes(data), count=1)


def _decode_bytes(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if len(data) > 1 and data[0] == 0 and data[1] != 0:
        return data.decode("utf-16-be")
    if len(data) > 1 and data[1] == 0 and data[0] != 0:
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def abc_tunes(path: Path) -> list[str]:
    """The tunes of an ABC file, each with the file's leading header lines."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise SheetsyncError(f"cannot read score file '{path}': {error}") from error
    starts = [match.start() for match in ABC_TUNE_START.finditer(text)]
    if not starts:
        return [text] if re.search(r"^K:", text, re.MULTILINE) else []
    header = text[: starts[0]]
    bounds = starts + [len(text)]
    return [header + text[bounds[i]:bounds[i + 1]] for i in range(len(starts))]


def abc_tune_to_musicxml(tune: str, path: Path) -> tuple[str, str]:
    """Convert one ABC tune to MusicXML with music21; (title, musicxml)."""
    import music21
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        score = music21.converter.parseData(tune, format="abc")
        title = (score.metadata.title or "") if score.metadata else ""
        return title, GeneralObjectExporter().parse(score).decode("utf-8")
    except Exception as error:  # music21 raises many unrelated types on malformed ABC
        raise SheetsyncError(f"cannot convert ABC tune in '{path}': {error}") from error


def sources_from_paths(paths: list[str], allow_reserved: bool = False) -> list[ScoreSource]:
    """Score sources for the files and folders a user named, in a stable order."""
    from sheetsync.data.corpus import is_reserved

    sources: list[ScoreSource] = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise SheetsyncError(f"score source '{path}' does not exist")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCORE_SUFFIXES)
            if not files:
                raise SheetsyncError(f"folder '{path}' holds no score files ({', '.join(sorted(SCORE_SUFFIXES))})")
        elif path.suffix.lower() not in SCORE_SUFFIXES:
            raise SheetsyncError(f"'{path}' is not a supported score file "
                                 f"(supported: {', '.join(sorted(SCORE_SUFFIXES))})")
        else:
            files = [path]
        for file in files:
            if is_reserved(file) and not allow_reserved:
                raise SheetsyncError(f"'{file}' is reserved for evaluation; pass --evaluation if this set is "
                                     "an evaluation set")
            sources.extend(file_sources(file))
    return _unique_ids(sources)


def file_sources(path: Path, grand_staff: bool = False) -> list[ScoreSource]:
    """One source per piece in a file: ABC files hold many tunes."""
    stem = slug(path.stem)
    if path.suffix.lower() == ".abc":
        tunes = abc_tunes(path)
        if len(tunes) == 1:
            return [ScoreSource(stem, str(path), path, 0)]
        return [ScoreSource(f"{stem}-{i + 1:03d}", f"{path} (tune {i + 1})", path, i) for i in range(len(tunes))]
    return [ScoreSource(stem, str(path), path, grand_staff=grand_staff)]


def composed_sources(seed: int, count: int) -> list[ScoreSource]:
    """`count` procedurally composed piano pieces, seeded."""
    return [ScoreSource(f"composed-{seed}-{i:04d}", f"sheetsync composer, seed {seed * 100_000 + i}",
                        composed_seed=seed * 100_000 + i) for i in range(count)]


def slug(text: str) -> str:
    """A folder-safe piece id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "piece"


def _unique_ids(sources: list[ScoreSource]) -> list[ScoreSource]:
    seen: dict[str, int] = {}
    unique = []
    for source in sources:
        count = seen.get(source.id, 0)
        seen[source.id] = count + 1
        if count:
            source = ScoreSource(f"{source.id}-{count + 1}", source.origin, source.path, source.tune,
                                 source.grand_staff, source.composed_seed)
        unique.append(source)
    return unique
