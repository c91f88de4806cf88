"""The sheetsync dataset format, version 1 (shared/DATASET.md): read, validate, write.

A set is a folder with `dataset.json` and one folder per piece holding
`piece.json`, its page images and its audio. Writers put each piece in a
temporary sibling folder and rename it into place, and builders write
`dataset.json` last, so an interrupted build is never mistaken for a complete
set. `load_dataset` checks every rule first and loads nothing from a set that
breaks one; `open_dataset` is the unchecked fast path for trusted sets.

Rules this module enforces beyond the letter of DATASET.md (see `validate`):
piece ids are plain folder names not starting with "."; file names in a piece
are relative paths inside its folder; integers are JSON integers; numbers are
finite; a given `y` lies on the page and a given `pitch` is a MIDI number
0-127; a piece has at least one onset. Boxes may pass the page edge or
overlap a neighbour by up to TOLERANCE pixels.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from sheetsync.errors import SheetsyncError

FORMAT = "sheetsync-dataset"
VERSION = 1
DATASET_FILE = "dataset.json"
PIECE_FILE = "piece.json"
INDEX_KEYS = ("format", "version", "pieces", "splits")
PIECE_KEYS = ("id", "title", "source", "engraver", "audio", "pages", "systems", "onsets")
TOLERANCE = 1.0  # pixels a box may pass its page's edge or overlap a neighbour by
IMAGE_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX",
               "I", "I;16", "I;16L", "I;16B", "I;16N"}  # grey or RGB, alpha allowed


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

    def __post_init__(self):
        object.__setattr__(self, "bbox", tuple(float(v) for v in self.bbox))


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
    """One piece: page images, system boxes, onsets in performance order, its audio; unknown keys in `extra`."""

    id: str
    title: str
    source: str
    engraver: str
    audio: str
    pages: tuple[Page, ...]
    systems: tuple[System, ...]
    onsets: tuple[Onset, ...]
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("pages", "systems", "onsets"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def onset_times(self) -> np.ndarray:
        """Every row's time in seconds (float64, sorted; rows sharing a time are one onset)."""
        return np.array([o.time for o in self.onsets], dtype=np.float64)

    def folder(self, root: str | Path) -> Path:
        """This piece's folder in the set at `root`."""
        return Path(root) / self.id

    def audio_path(self, root: str | Path) -> Path:
        """The audio file of this piece in the set at `root`."""
        return self.folder(root) / self.audio

    def page_path(self, root: str | Path, index: int) -> Path:
        """The image of page `index` (0-based) of this piece in the set at `root`."""
        return self.folder(root) / self.pages[index].image

    def to_json(self) -> dict:
        """The piece.json object (unknown keys last; they never replace a format key)."""
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
            **{k: v for k, v in self.extra.items() if k not in PIECE_KEYS},
        }

    @classmethod
    def from_json(cls, data: dict) -> "Piece":
        """A piece from a piece.json object, unchecked (run `validate_piece` on untrusted data first)."""
        return cls(
            id=data["id"], title=data["title"], source=data["source"], engraver=data["engraver"],
            audio=data["audio"],
            pages=tuple(Page(p["image"], int(p["width"]), int(p["height"]), float(p["dpi"])) for p in data["pages"]),
            systems=tuple(System(int(s["page"]), s["bbox"]) for s in data["systems"]),
            onsets=tuple(Onset(float(o["time"]), int(o["page"]), int(o["system"]), float(o["x"]),
                               None if o.get("y") is None else float(o["y"]),
                               None if o.get("pitch") is None else int(o["pitch"])) for o in data["onsets"]),
            extra={k: v for k, v in data.items() if k not in PIECE_KEYS},
        )


def read_piece(folder: str | Path) -> Piece:
    """The piece in `folder`, unchecked."""
    return Piece.from_json(json.loads((Path(folder) / PIECE_FILE).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Dataset:
    """A set: its piece ids, its splits (possibly none), unknown dataset.json keys in `extra`."""

    root: Path
    pieces: tuple[str, ...]
    splits: dict[str, tuple[str, ...]]
    extra: dict = field(default_factory=dict)

    def split(self, name: str | None) -> tuple[str, ...]:
        """The pieces of split `name`; the whole set for None or "all", or for any name when the set has no splits."""
        if name in self.splits:
            return self.splits[name]
        if name in (None, "all") or not self.splits:
            return self.pieces
        raise SheetsyncError(f"dataset '{self.root}' has no split '{name}' (it has: {', '.join(self.splits)})")

    def piece_dir(self, piece_id: str) -> Path:
        return self.root / piece_id

    def load_piece(self, piece_id: str) -> Piece:
        """Read one piece of the set (checked already when the set came from `load_dataset`)."""
        if piece_id not in self.pieces:
            raise SheetsyncError(f"dataset '{self.root}' has no piece '{piece_id}'")
        return read_piece(self.piece_dir(piece_id))


@dataclass(frozen=True)
class Violation:
    """One broken rule: which piece (None: the set itself), which field, what rule."""

    piece: str | None
    field: str
    rule: str

    def __str__(self) -> str:
        rule = " ".join(self.rule.split())  # always one line
        if self.piece is not None:
            return f"piece '{self.piece}': {self.field}: {rule}"
        if self.field in ("folder", DATASET_FILE):
            return f"{self.field}: {rule}"
        return f"{DATASET_FILE}: {self.field}: {rule}"


class DatasetError(SheetsyncError):
    """A set that breaks the format; the message lists every violation, one per line."""

    def __init__(self, root: str | Path, violations: list[Violation]):
        self.violations = list(violations)
        lines = "\n  ".join(str(v) for v in self.violations)
        count = f"{len(self.violations)} problem{'s' if len(self.violations) != 1 else ''}"
        super().__init__(f"dataset '{root}' breaks the format ({count}):\n  {lines}")


# ---------------------------------------------------------------- validation


def validate(root: str | Path) -> list[Violation]:
    """Every rule of DATASET.md that the set at `root` breaks; an empty list means it is valid."""
    return _validate(Path(root))[1]


def _validate(root: Path) -> tuple[dict | None, list[Violation]]:
    index, violations = _read_index(root)
    if index is not None:
        for piece_id in dict.fromkeys(index["pieces"]):
            if _name_problem(piece_id) is None and (root / piece_id / PIECE_FILE).is_file():
                violations += validate_piece(root / piece_id, piece_id)
    return index, violations


def _read_index(root: Path) -> tuple[dict | None, list[Violation]]:
    """dataset.json parsed and checked; None when it cannot be read at all."""
    if not root.exists():
        return None, [Violation(None, "folder", f"'{root}' does not exist")]
    if not root.is_dir():
        return None, [Violation(None, "folder", f"'{root}' is not a folder")]
    path = root / DATASET_FILE
    if not path.is_file():
        started = [p.name for p in root.iterdir() if p.is_dir() and
                   ((p / PIECE_FILE).is_file() or ".tmp-" in p.name)]
        if started:
            rule = (f"'{root}' has {len(started)} piece folders but no {DATASET_FILE}: "
                    "an unfinished build (rerun the build to finish it)")
        else:
            rule = f"'{root}' is not a sheetsync dataset (no {DATASET_FILE})"
        return None, [Violation(None, DATASET_FILE, rule)]
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [Violation(None, DATASET_FILE, f"'{path}' is not readable JSON ({error})")]
    if not isinstance(index, dict):
        return None, [Violation(None, DATASET_FILE, f"'{path}' must hold a JSON object")]
    return index, _check_index(root, index)


def _check_index(root: Path, index: dict) -> list[Violation]:
    """The index's own rules; leaves index["pieces"] a list (empty when unusable)."""
    problems = []
    if index.get("format") != FORMAT:
        problems.append(Violation(None, "format", f'required: must be "{FORMAT}"'))
    if index.get("version") != VERSION or isinstance(index.get("version"), bool):
        problems.append(Violation(None, "version", f"required: must be {VERSION} (the version this reader knows)"))
    pieces = index.get("pieces")
    if not isinstance(pieces, list) or not all(isinstance(p, str) for p in pieces):
        problems.append(Violation(None, "pieces", "required: a list of piece folder names"))
        pieces = [p for p in pieces if isinstance(p, str)] if isinstance(pieces, list) else []
    index["pieces"] = pieces
    seen = set()
    for i, piece_id in enumerate(pieces):
        problem = _name_problem(piece_id)
        if problem:
            problems.append(Violation(piece_id, f"pieces[{i}]", problem))
        elif piece_id in seen:
            problems.append(Violation(piece_id, f"pieces[{i}]", "listed more than once"))
        elif not (root / piece_id / PIECE_FILE).is_file():
            problems.append(Violation(piece_id, f"pieces[{i}]",
                                      f"listed, but '{piece_id}/{PIECE_FILE}' does not exist"))
        seen.add(piece_id)
    splits = index.get("splits", {})
    if not isinstance(splits, dict) or not all(isinstance(m, list) and all(isinstance(p, str) for p in m)
                                               for m in splits.values()):
        problems.append(Violation(None, "splits", "must map split names to lists of piece ids"))
        return problems
    split_of: dict[str, str] = {}
    for name, members in splits.items():
        for piece_id in members:
            if piece_id not in seen:
                problems.append(Violation(piece_id, f"splits.{name}", "is not listed in pieces"))
            if piece_id in split_of:
                where = "this split" if split_of[piece_id] == name else f"split '{split_of[piece_id]}'"
                problems.append(Violation(piece_id, f"splits.{name}", f"is also in {where} "
                                          "(a piece may be in at most one split)"))
            split_of.setdefault(piece_id, name)
    return problems


def validate_piece(folder: str | Path, piece_id: str | None = None) -> list[Violation]:
    """Every rule the piece in `folder` breaks; its id must equal `piece_id` (default: the folder's name)."""
    folder = Path(folder)
    piece_id = folder.name if piece_id is None else piece_id
    problems: list[Violation] = []

    def bad(field_name: str, rule: str) -> None:
        problems.append(Violation(piece_id, field_name, rule))

    try:
        data = json.loads((folder / PIECE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return [Violation(piece_id, PIECE_FILE, f"not readable JSON ({error})")]
    if not isinstance(data, dict):
        return [Violation(piece_id, PIECE_FILE, "must hold a JSON object")]
    for key in ("id", "title", "source", "engraver", "audio"):
        if key not in data:
            bad(key, "required")
        elif not isinstance(data[key], str):
            bad(key, "must be a string")
    if isinstance(data.get("id"), str) and data["id"] != piece_id:
        bad("id", f"'{data['id']}' must equal the folder name '{piece_id}'")
    for key in ("pages", "systems", "onsets"):
        if key not in data:
            bad(key, "required")
        elif not isinstance(data[key], list):
            bad(key, "must be a list")
        elif not data[key]:
            bad(key, f"must list at least one {key[:-1]}")
    pages = _check_pages(folder, _rows(data, "pages"), bad)
    systems = _check_systems(_rows(data, "systems"), pages or None, bad)
    duration = _check_audio(folder, data.get("audio"), bad)
    _check_onsets(_rows(data, "onsets"), pages or None, systems or None, duration, bad)
    return problems


def _rows(data: dict, key: str) -> list:
    rows = data.get(key)
    return rows if isinstance(rows, list) else []


def _index_problem(value, items: list | None, what: str) -> str | None:
    """Why `value` cannot index `items`; with items None (that list is broken) only the type is checked."""
    if value is None:
        return "required"
    if not _is_int(value) or value < 0:
        return f"{value!r} must be a {what} index (an integer from 0)"
    if items is not None and value >= len(items):
        return f"{value} is not a {what} index (0 to {len(items) - 1})"
    return None


def _check_pages(folder: Path, rows: list, bad) -> list[tuple[float, float] | None]:
    """Check every page; return each page's (width, height), None where unknown."""
    from PIL import Image

    sizes = []
    for i, row in enumerate(rows):
        where = f"pages[{i}]"
        if not isinstance(row, dict):
            bad(where, "must be an object with image, width, height and dpi")
            sizes.append(None)
            continue
        width = _positive(row, "width", where, bad, integer=True)
        height = _positive(row, "height", where, bad, integer=True)
        _positive(row, "dpi", where, bad, integer=False)
        sizes.append((width, height) if width is not None and height is not None else None)
        name = row.get("image")
        problem = "required" if name is None else _file_problem(name)
        if problem:
            bad(f"{where}.image", problem)
            continue
        try:
            with Image.open(folder / name) as image:  # reads the header only
                stored, mode = image.size, image.mode
        except FileNotFoundError:
            bad(f"{where}.image", f"'{name}' does not exist")
            continue
        except Exception as error:  # Pillow raises many types for a file it cannot read
            bad(f"{where}.image", f"'{name}' is not a readable image ({error})")
            continue
        if mode not in IMAGE_MODES:
            bad(f"{where}.image", f"'{name}' is {mode}; it must be grey or RGB (alpha allowed)")
        for axis, given, actual in (("width", width, stored[0]), ("height", height, stored[1])):
            if given is not None and given != actual:
                bad(f"{where}.{axis}", f"{given} differs from the stored image's {axis} {actual}")
    return sizes


def _positive(row: dict, key: str, where: str, bad, integer: bool) -> float | None:
    value = row.get(key)
    if value is None:
        bad(f"{where}.{key}", "required")
    elif not (_is_int(value) if integer else _is_number(value)) or value <= 0:
        bad(f"{where}.{key}", f"must be a positive {'integer' if integer else 'number'}")
    else:
        return value
    return None


def _check_systems(rows: list, pages: list | None, bad) -> list[tuple[int, tuple] | None]:
    """Check every system; return each system's (page, bbox), None where unusable."""
    systems: list[tuple[int, tuple] | None] = []
    for i, row in enumerate(rows):
        where = f"systems[{i}]"
        if not isinstance(row, dict):
            bad(where, "must be an object with page and bbox")
            systems.append(None)
            continue
        page, box = row.get("page"), row.get("bbox")
        problem = _index_problem(page, pages, "page")
        if problem:
            bad(f"{where}.page", problem)
        page_ok = problem is None
        box_ok = isinstance(box, list) and len(box) == 4 and all(_is_number(v) for v in box)
        if not box_ok:
            bad(f"{where}.bbox", "required" if box is None else "must be [x0, y0, x1, y1], four finite numbers")
        elif not (box[0] < box[2] and box[1] < box[3]):
            bad(f"{where}.bbox", "must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
            box_ok = False
        elif page_ok and pages is not None and pages[page] is not None:
            width, height = pages[page]
            if min(box[0], box[1]) < -TOLERANCE or box[2] > width + TOLERANCE or box[3] > height + TOLERANCE:
                bad(f"{where}.bbox", f"{box} must lie inside its page (0, 0, {width}, {height})")
        if page_ok:
            earlier = [s for s in systems if s is not None]
            if earlier and page < earlier[-1][0]:
                bad(f"{where}.page", f"page {page} comes after a system on page {earlier[-1][0]}: "
                    "systems must be in reading order")
            if box_ok:
                for j, other in enumerate(systems):
                    if other is not None and other[0] == page and _overlap(other[1], box):
                        bad(f"{where}.bbox", f"overlaps systems[{j}] on page {page}")
        systems.append((page, tuple(box)) if page_ok and box_ok else None)
    return systems


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > TOLERANCE and min(a[3], b[3]) - max(a[1], b[1]) > TOLERANCE


def _check_audio(folder: Path, name, bad) -> float | None:
    """Check the audio file from its header; return its duration in seconds, None when unreadable."""
    import soundfile

    if not isinstance(name, str):
        return None  # reported with the piece's keys
    problem = _file_problem(name)
    if problem:
        bad("audio", problem)
        return None
    if not (folder / name).is_file():
        bad("audio", f"'{name}' does not exist")
        return None
    try:
        info = soundfile.info(str(folder / name))
    except Exception as error:  # soundfile raises its own and RuntimeError types
        bad("audio", f"'{name}' is not audio that soundfile can read ({error})")
        return None
    if info.channels not in (1, 2):
        bad("audio", f"'{name}' has {info.channels} channels; it must be mono or stereo")
    return info.frames / info.samplerate


def _check_onsets(rows: list, pages: list | None, systems: list | None, duration: float | None, bad) -> None:
    previous = -math.inf
    for i, row in enumerate(rows):
        where = f"onsets[{i}]"
        if not isinstance(row, dict):
            bad(where, "must be an object with time, page, system and x")
            continue
        time, page, system, x = row.get("time"), row.get("page"), row.get("system"), row.get("x")
        if not _is_number(time):
            bad(f"{where}.time", "required" if time is None else "must be a finite number of seconds")
        else:
            if time < 0:
                bad(f"{where}.time", f"{time} must not be negative")
            if time < previous:
                bad(f"{where}.time", f"{time} comes before an earlier row's {previous}: onsets must be sorted by time")
            if duration is not None and time > duration + 1e-6:
                bad(f"{where}.time", f"{time:.3f} s lies after the end of the audio ({duration:.3f} s)")
            previous = max(previous, time)
        page_problem = _index_problem(page, pages, "page")
        if page_problem:
            bad(f"{where}.page", page_problem)
        system_problem = _index_problem(system, systems, "system")
        if system_problem:
            bad(f"{where}.system", system_problem)
        elif systems is not None and systems[system] is not None and not page_problem \
                and page != systems[system][0]:
            bad(f"{where}.page", f"{page} must equal its system's page ({systems[system][0]})")
        size = pages[page] if pages is not None and not page_problem else None
        if not _is_number(x):
            bad(f"{where}.x", "required" if x is None else "must be a finite number")
        elif size is not None and not 0 <= x <= size[0]:
            bad(f"{where}.x", f"{x} must lie on its page (0 to {size[0]})")
        y = row.get("y")
        if y is not None and not _is_number(y):
            bad(f"{where}.y", "must be a finite number or absent")
        elif y is not None and size is not None and not 0 <= y <= size[1]:
            bad(f"{where}.y", f"{y} must lie on its page (0 to {size[1]})")
        pitch = row.get("pitch")
        if pitch is not None and not (_is_int(pitch) and 0 <= pitch <= 127):
            bad(f"{where}.pitch", f"{pitch!r} must be a MIDI number (0 to 127) or absent")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _name_problem(piece_id) -> str | None:
    """Why `piece_id` cannot be a piece folder's name, or None."""
    if not isinstance(piece_id, str) or not piece_id:
        return "a piece id must be a non-empty string"
    if "/" in piece_id or "\\" in piece_id or piece_id.startswith("."):
        return f"'{piece_id}' must be a plain folder name (no '/' or '\\', not starting with '.')"
    return None


def _file_problem(name) -> str | None:
    """Why `name` cannot name a file inside a piece folder, or None."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty file name"
    path = PurePosixPath(name)
    if path.is_absolute() or "\\" in name or ".." in path.parts or name == PIECE_FILE:
        return f"'{name}' must name a file inside the piece folder"
    return None


# ---------------------------------------------------------------- reading


def load_dataset(root: str | Path) -> Dataset:
    """The set at `root`, checked against every rule; raises DatasetError listing every violation."""
    root = Path(root)
    index, violations = _validate(root)
    if violations:
        raise DatasetError(root, violations)
    return _dataset(root, index)


def open_dataset(root: str | Path) -> Dataset:
    """The set at `root` from its dataset.json alone, unchecked: only for sets this program built or checked."""
    root = Path(root)
    return _dataset(root, json.loads((root / DATASET_FILE).read_text(encoding="utf-8")))


def _dataset(root: Path, index: dict) -> Dataset:
    return Dataset(root, tuple(index["pieces"]),
                   {name: tuple(members) for name, members in index.get("splits", {}).items()},
                   {k: v for k, v in index.items() if k not in INDEX_KEYS})


def read_page_image(path: str | Path) -> np.ndarray:
    """A page image as grey uint8 (H, W); alpha is flattened onto white, 16-bit grey scaled to 8 bits."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode.startswith("I"):
            return np.round(np.asarray(image, dtype=np.float64) / 257.0).clip(0, 255).astype(np.uint8)
        if image.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        return np.asarray(image.convert("L"))


# ---------------------------------------------------------------- writing


def write_piece(root: str | Path, piece: Piece, files: dict[str, bytes | Path], overwrite: bool = False,
                check: bool = True) -> Path:
    """Write `piece` and its `files` (name -> bytes, or a Path to copy) as `root/<id>`, atomically.

    The folder is filled under a temporary name (".<id>.tmp-<random>") and renamed
    into place, so a partial piece is never visible under its final name. An
    existing piece is replaced only with `overwrite`. With `check`, a piece that
    breaks the format raises DatasetError and nothing is written.
    """
    root = Path(root)
    problem = _name_problem(piece.id)
    if problem:
        raise SheetsyncError(f"cannot write piece: {problem}")
    for name in files:
        if _file_problem(name):
            raise SheetsyncError(f"cannot write piece '{piece.id}': {_file_problem(name)}")
    final = root / piece.id
    if (final.exists() or final.is_symlink()) and not overwrite:
        raise SheetsyncError(f"piece folder '{final}' already exists")
    root.mkdir(parents=True, exist_ok=True)
    staging = _fresh_dir(root, f".{piece.id}.tmp-")
    retired = None
    try:
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, (bytes, bytearray, memoryview)):
                _write_file(target, bytes(content))
            elif isinstance(content, os.PathLike):
                shutil.copyfile(content, target)
            else:
                raise TypeError(f"file '{name}': give bytes or a Path, not {type(content).__name__}")
        _write_file(staging / PIECE_FILE, _piece_text(piece.to_json()).encode())
        if check:
            violations = validate_piece(staging, piece.id)
            if violations:
                raise DatasetError(root, violations)
        if overwrite and (final.exists() or final.is_symlink()):
            retired = root / f".{piece.id}.old-{secrets.token_hex(4)}"
            os.replace(final, retired)
        try:
            os.replace(staging, final)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            raise SheetsyncError(f"piece folder '{final}' already exists") from error  # another writer was first
        _sync_dir(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if retired is not None and not final.exists():
            os.replace(retired, final)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return final


def write_dataset_json(root: str | Path, pieces, splits: dict | None = None, extra: dict | None = None) -> Path:
    """Write `root/dataset.json` atomically, after checking the index (pieces exist, splits disjoint).

    Builders call this last, once every piece is in place.
    """
    root = Path(root)
    extra = dict(extra or {})
    clash = [k for k in extra if k in INDEX_KEYS]
    if clash:
        raise ValueError(f"extra may not set {', '.join(clash)}")
    index = {"format": FORMAT, "version": VERSION, "pieces": list(pieces)}
    if splits:
        index["splits"] = {name: list(members) for name, members in splits.items()}
    index.update(extra)
    violations = _check_index(root, dict(index))
    if violations:
        raise DatasetError(root, violations)
    temporary = root / f".{DATASET_FILE}.tmp-{secrets.token_hex(4)}"
    try:
        _write_file(temporary, json.dumps(index, indent=1, ensure_ascii=False).encode())
        os.replace(temporary, root / DATASET_FILE)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_dir(root)
    return root / DATASET_FILE


def _piece_text(data: dict) -> str:
    """piece.json text: one line per key, and one line per page, system and onset."""
    lines = []
    for key, value in data.items():
        text = json.dumps(value, ensure_ascii=False)
        if key in ("pages", "systems", "onsets") and value:
            text = "[\n" + ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in value) + "\n ]"
        lines.append(f" {json.dumps(key, ensure_ascii=False)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _fresh_dir(parent: Path, prefix: str) -> Path:
    while True:  # os.mkdir, unlike tempfile.mkdtemp, honours the umask
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _write_file(path: Path, content: bytes) -> None:
    with open(path, "xb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())


def _sync_dir(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------- summary and check


@dataclass(frozen=True)
class SplitSummary:
    """The size of one split; prints as "train: 120 pieces, 310 pages, 45,000 onsets, 3.2 h audio"."""

    name: str
    pieces: int
    pages: int
    onsets: int
    seconds: float

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    def __str__(self) -> str:
        hours = f"{self.hours:.1f}" if self.hours >= 1 else f"{self.hours:.2f}"
        return (f"{self.name}: {_count(self.pieces, 'piece')}, {_count(self.pages, 'page')}, "
                f"{_count(self.onsets, 'onset')}, {hours} h audio")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def summarize(dataset: Dataset) -> list[SplitSummary]:
    """The size of each split in order ("all" for a set without splits; "no split" for pieces in none)."""
    import soundfile

    groups = dict(dataset.splits) if dataset.splits else {"all": dataset.pieces}
    assigned = {p for members in dataset.splits.values() for p in members}
    unassigned = tuple(p for p in dataset.pieces if p not in assigned)
    if dataset.splits and unassigned:
        groups["no split"] = unassigned
    summaries = []
    for name, members in groups.items():
        pages = onsets = 0
        seconds = 0.0
        for piece_id in members:
            piece = dataset.load_piece(piece_id)
            pages += len(piece.pages)
            onsets += len(piece.onsets)
            seconds += soundfile.info(str(dataset.piece_dir(piece_id) / piece.audio)).duration
        summaries.append(SplitSummary(name, len(members), pages, onsets, seconds))
    return summaries


def check_command(root: str) -> int:
    """`sheetsync data check`: print each split's size and return 0, or every violation to stderr and return 1."""
    index, violations = _validate(Path(root))
    if violations:
        for violation in violations:
            print(violation, file=sys.stderr)
        if index is not None:
            count = f"{len(violations)} problem{'s' if len(violations) != 1 else ''}"
            print(f"'{root}': {count}; not a valid sheetsync dataset (see DATASET.md)", file=sys.stderr)
        return 1
    for summary in summarize(_dataset(Path(root), index)):
        print(summary)
    return 0
