"""The sheetsync dataset format, version 1 (shared/DATASET.md): read, validate, write.

A set is a folder with `dataset.json` and one folder per piece holding
`piece.json`, its page images and its audio. Writers put each piece in a
temporary folder and rename it into place, and write `dataset.json` last, so
an interrupted build is never mistaken for a complete set. Readers validate
everything first and load nothing from a set that breaks a rule.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sheetsync.errors import SheetsyncError

FORMAT = "sheetsync-dataset"
VERSION = 1
DATASET_FILE = "dataset.json"
PIECE_FILE = "piece.json"
PIECE_KEYS = ("id", "title", "source", "engraver", "audio", "pages", "systems", "onsets")
TOLERANCE = 1.0  # pixels of slack for boxes touching page edges or neighbours


@dataclass(frozen=True)
class Page:
    image: str
    width: int
    height: int
    dpi: float


@dataclass(frozen=True)
class System:
    page: int
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class Onset:
    time: float
    page: int
    system: int
    x: float
    y: float | None = None
    pitch: int | None = None


@dataclass(frozen=True)
class Piece:
    """One piece: page images, system boxes and onsets in performance order, and its audio."""

    id: str
    title: str
    source: str
    engraver: str
    audio: str
    pages: tuple[Page, ...]
    systems: tuple[System, ...]
    onsets: tuple[Onset, ...]
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        onsets = []
        for onset in self.onsets:
            row = {"time": onset.time, "page": onset.page, "system": onset.system, "x": onset.x}
            if onset.y is not None:
                row["y"] = onset.y
            if onset.pitch is not None:
                row["pitch"] = onset.pitch
            onsets.append(row)
        return {
            "id": self.id, "title": self.title, "source": self.source, "engraver": self.engraver,
            "audio": self.audio,
            "pages": [{"image": p.image, "width": p.width, "height": p.height, "dpi": p.dpi} for p in self.pages],
            "systems": [{"page": s.page, "bbox": list(s.bbox)} for s in self.systems],
            "onsets": onsets,
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Piece":
        return cls(
            id=data["id"], title=data["title"], source=data["source"], engraver=data["engraver"],
            audio=data["audio"],
            pages=tuple(Page(p["image"], int(p["width"]), int(p["height"]), float(p["dpi"])) for p in data["pages"]),
            systems=tuple(System(int(s["page"]), tuple(float(v) for v in s["bbox"])) for s in data["systems"]),
            onsets=tuple(Onset(float(o["time"]), int(o["page"]), int(o["system"]), float(o["x"]),
                               None if o.get("y") is None else float(o["y"]),
                               None if o.get("pitch") is None else int(o["pitch"])) for o in data["onsets"]),
            extra={k: v for k, v in data.items() if k not in PIECE_KEYS},
        )


@dataclass(frozen=True)
class Dataset:
    """A validated set: piece ids, splits, and where to read each piece."""

    root: Path
    pieces: tuple[str, ...]
    splits: dict[str, tuple[str, ...]]
    extra: dict = field(default_factory=dict)

    def split(self, name: str | None) -> tuple[str, ...]:
        """The pieces of a split; the whole set for None or "all", or when the set has no splits."""
        if name in (None, "all") or not self.splits:
            return self.pieces
        if name not in self.splits:
            raise SheetsyncError(f"dataset '{self.root}' has no split '{name}' (it has: {', '.join(self.splits)})")
        return self.splits[name]

    def load_piece(self, piece_id: str) -> Piece:
        return Piece.from_json(json.loads((self.root / piece_id / PIECE_FILE).read_text()))

    def piece_dir(self, piece_id: str) -> Path:
        return self.root / piece_id


@dataclass(frozen=True)
class Violation:
    """One broken rule: which piece, which field, what rule."""

    piece: str | None
    field: str
    rule: str

    def __str__(self) -> str:
        where = f"piece '{self.piece}'" if self.piece else "dataset.json"
        return f"{where}: {self.field}: {self.rule}"


class DatasetError(SheetsyncError):
    """A dataset that breaks the format; the message lists every violation."""

    def __init__(self, root: Path, violations: list[Violation]):
        self.violations = violations
        lines = "\n  ".join(str(v) for v in violations)
        super().__init__(f"dataset '{root}' breaks the format ({len(violations)} problems):\n  {lines}")


def validate(root: str | Path) -> list[Violation]:
    """Every rule the set at `root` breaks (an empty list: the set is valid)."""
    root = Path(root)
    index, violations = _read_index(root)
    if index is None:
        return violations
    for piece_id in index["pieces"]:
        violations += validate_piece(root / piece_id, piece_id)
    return violations


def _read_index(root: Path) -> tuple[dict | None, list[Violation]]:
    path = root / DATASET_FILE
    if not root.is_dir():
        return None, [Violation(None, "root", f"'{root}' is not a folder")]
    if not path.exists():
        partial = any((p / PIECE_FILE).exists() for p in root.iterdir() if p.is_dir())
        rule = ("no dataset.json: an unfinished build (rerun it to complete)" if partial
                else "no dataset.json: not a sheetsync dataset")
        return None, [Violation(None, DATASET_FILE, rule)]
    try:
        index = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        return None, [Violation(None, DATASET_FILE, f"unreadable JSON ({error})")]
    violations = []
    if not isinstance(index, dict):
        return None, [Violation(None, DATASET_FILE, "must be a JSON object")]
    if index.get("format") != FORMAT:
        violations.append(Violation(None, "format", f'must be "{FORMAT}"'))
    if index.get("version") != VERSION:
        violations.append(Violation(None, "version", f"must be {VERSION} (this reader knows version {VERSION})"))
    pieces = index.get("pieces")
    if not isinstance(pieces, list) or not all(isinstance(p, str) for p in pieces):
        return None, violations + [Violation(None, "pieces", "required: a list of piece folder names")]
    if len(set(pieces)) != len(pieces):
        violations.append(Violation(None, "pieces", "lists a piece more than once"))
    for piece_id in pieces:
        if not (root / piece_id / PIECE_FILE).is_file():
            violations.append(Violation(piece_id, "pieces", f"listed but '{piece_id}/{PIECE_FILE}' is missing"))
    splits = index.get("splits", {})
    if not isinstance(splits, dict) or not all(isinstance(v, list) for v in splits.values()):
        violations.append(Violation(None, "splits", "must map split names to lists of pieces"))
        splits = {}
    seen: dict[str, str] = {}
    for name, members in splits.items():
        for piece_id in members:
            if piece_id not in pieces:
                violations.append(Violation(piece_id, f"splits.{name}", "is not listed in pieces"))
            if piece_id in seen:
                violations.append(Violation(piece_id, f"splits.{name}", f"is also in split '{seen[piece_id]}'"))
            seen[piece_id] = name
    if any(v.field == "pieces" and v.piece for v in violations):
        pieces = [p for p in pieces if (root / p / PIECE_FILE).is_file()]
    index["pieces"] = pieces
    return index, violations


def validate_piece(folder: Path, piece_id: str) -> list[Violation]:
    """Every rule one piece folder breaks."""
    path = folder / PIECE_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        return [Violation(piece_id, PIECE_FILE, f"unreadable JSON ({error})")]
    missing = [key for key in PIECE_KEYS if key not in data]
    if missing:
        return [Violation(piece_id, key, "required") for key in missing]
    try:
        piece = Piece.from_json(data)
    except (KeyError, TypeError, ValueError) as error:
        return [Violation(piece_id, PIECE_FILE, f"malformed entry ({type(error).__name__}: {error})")]
    problems = []

    def bad(field_name: str, rule: str) -> None:
        problems.append(Violation(piece_id, field_name, rule))

    if piece.id != piece_id:
        bad("id", f"must equal the folder name '{piece_id}'")
    if not piece.pages:
        bad("pages", "must list at least one page")
    if not piece.systems:
        bad("systems", "must list at least one system")
    if not piece.onsets:
        bad("onsets", "must list at least one onset")
    _check_pages(folder, piece, bad)
    _check_systems(piece, bad)
    _check_onsets(folder, piece, bad)
    return problems


def _check_pages(folder: Path, piece: Piece, bad) -> None:
    from PIL import Image

    for i, page in enumerate(piece.pages):
        if page.dpi <= 0:
            bad(f"pages[{i}].dpi", "must be positive")
        try:
            with Image.open(folder / page.image) as image:
                size = image.size
        except (OSError, ValueError) as error:
            bad(f"pages[{i}].image", f"'{page.image}' is not a readable image ({error})")
            continue
        if size != (page.width, page.height):
            bad(f"pages[{i}]", f"width x height {page.width}x{page.height} differs from the image's {size[0]}x{size[1]}")


def _check_systems(piece: Piece, bad) -> None:
    for i, system in enumerate(piece.systems):
        if not 0 <= system.page < len(piece.pages):
            bad(f"systems[{i}].page", f"page index {system.page} is not one of the {len(piece.pages)} pages")
            continue
        page = piece.pages[system.page]
        x0, y0, x1, y1 = system.bbox
        if not (x0 < x1 and y0 < y1):
            bad(f"systems[{i}].bbox", "must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
        if x0 < -TOLERANCE or y0 < -TOLERANCE or x1 > page.width + TOLERANCE or y1 > page.height + TOLERANCE:
            bad(f"systems[{i}].bbox", "must lie inside its page")
    for i in range(1, len(piece.systems)):
        previous, current = piece.systems[i - 1], piece.systems[i]
        if current.page < previous.page:
            bad(f"systems[{i}].page", "systems must be in reading order (page numbers never decrease)")
        elif current.page == previous.page and _overlap(previous.bbox, current.bbox):
            bad(f"systems[{i}].bbox", f"overlaps system {i - 1} on the same page")


def _overlap(a, b) -> bool:
    return (min(a[2], b[2]) - max(a[0], b[0]) > TOLERANCE) and (min(a[3], b[3]) - max(a[1], b[1]) > TOLERANCE)


def _check_onsets(folder: Path, piece: Piece, bad) -> None:
    duration = _audio_duration(folder / piece.audio, bad)
    previous = -np.inf
    for i, onset in enumerate(piece.onsets):
        if onset.time < 0:
            bad(f"onsets[{i}].time", "must not be negative")
        if onset.time < previous:
            bad(f"onsets[{i}].time", "onsets must be sorted by time")
        previous = onset.time
        if duration is not None and onset.time > duration:
            bad(f"onsets[{i}].time", f"{onset.time:.3f} s lies after the end of the audio ({duration:.3f} s)")
        if not 0 <= onset.system < len(piece.systems):
            bad(f"onsets[{i}].system", f"system index {onset.system} is not one of the {len(piece.systems)} systems")
            continue
        system = piece.systems[onset.system]
        if onset.page != system.page:
            bad(f"onsets[{i}].page", f"must equal its system's page ({system.page})")
        if 0 <= onset.page < len(piece.pages) and not 0 <= onset.x <= piece.pages[onset.page].width:
            bad(f"onsets[{i}].x", "must lie on the page")


def _audio_duration(path: Path, bad) -> float | None:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception as error:  # soundfile raises its own and RuntimeError types
        bad("audio", f"'{path.name}' is not readable audio ({error})")
        return None
    return info.frames / info.samplerate


def load_dataset(root: str | Path) -> Dataset:
    """A validated dataset; raises DatasetError listing every violation, loading nothing."""
    root = Path(root)
    violations = validate(root)
    if violations:
        raise DatasetError(root, violations)
    return open_dataset(root)


def open_dataset(root: str | Path) -> Dataset:
    """Read dataset.json without validating the pieces (for sets this process has just validated or built)."""
    root = Path(root)
    index = json.loads((root / DATASET_FILE).read_text())
    splits = {name: tuple(members) for name, members in index.get("splits", {}).items()}
    extra = {k: v for k, v in index.items() if k not in ("format", "version", "pieces", "splits")}
    return Dataset(root, tuple(index["pieces"]), splits, extra)


def write_piece(root: str | Path, piece: Piece, files: dict[str, bytes | Path], overwrite: bool = False) -> Path:
    """Write a piece folder atomically: a temporary sibling folder renamed into place."""
    root = Path(root)
    final = root / piece.id
    if final.exists() and not overwrite:
        raise SheetsyncError(f"piece folder '{final}' already exists")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{piece.id}.tmp-", dir=root))
    try:
        for name, content in files.items():
            target = staging / name
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                target.write_bytes(content)
        (staging / PIECE_FILE).write_text(json.dumps(piece.to_json(), indent=1))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def write_dataset_json(root: str | Path, pieces, splits: dict | None = None, extra: dict | None = None) -> Path:
    """Write dataset.json atomically; builders call this last."""
    root = Path(root)
    index = {"format": FORMAT, "version": VERSION, "pieces": list(pieces), **(extra or {})}
    if splits:
        index["splits"] = {name: list(members) for name, members in splits.items()}
    handle, temporary = tempfile.mkstemp(prefix=".dataset.json.", dir=root)
    with os.fdopen(handle, "w") as stream:
        json.dump(index, stream, indent=1)
    os.replace(temporary, root / DATASET_FILE)
    return root / DATASET_FILE


def read_page_image(path: str | Path) -> np.ndarray:
    """A page image as grey uint8 (H, W), any alpha flattened onto white."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            image = image.convert("RGBA")
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, image)
        return np.asarray(image.convert("L"))


def summarize(dataset: Dataset) -> list[str]:
    """One line per split (or one for the whole set): pieces, pages, onsets, hours of audio."""
    import soundfile

    names = list(dataset.splits) or ["all"]
    lines = []
    for name in names:
        pages = onsets = 0
        seconds = 0.0
        members = dataset.split(name)
        for piece_id in members:
            piece = dataset.load_piece(piece_id)
            pages += len(piece.pages)
            onsets += len(piece.onsets)
            seconds += soundfile.info(str(dataset.piece_dir(piece_id) / piece.audio)).duration
        lines.append(f"{name}: {len(members):,} pieces, {pages:,} pages, {onsets:,} onsets, "
                     f"{seconds / 3600:.2f} h audio")
    return lines


def check_command(root: str) -> int:
    """`sheetsync data check`: print the set's size per split, or every violation (exit 1)."""
    violations = validate(root)
    if violations:
        for violation in violations:
            print(f"{root}: {violation}", file=sys.stderr)
        print(f"{root}: {len(violations)} problems; not a valid sheetsync dataset", file=sys.stderr)
        return 1
    for line in summarize(open_dataset(root)):
        print(line)
    return 0
