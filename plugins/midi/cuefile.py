"""Reading a cue file (`--midi-map`, TOML or YAML) into checked `Cue` objects; the format is in README.md."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import mido

from sheetsync.errors import SheetsyncError

SKIP_POLICIES = ("drop", "fire")
NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
NOTE_PATTERN = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)$")
CUE_KEYS = {"name", "measure", "measures", "page", "progress", "channel", "velocity", "skipped", "send", "exit"}
DEFAULT_KEYS = {"channel", "velocity", "skipped", "margin", "progress_margin"}
MESSAGE_KEYS = {"note", "note_off", "velocity", "duration", "cc", "value", "program", "channel"}


@dataclass(frozen=True)
class Action:
    """One MIDI message to send; a note-on may carry a duration in seconds (None: held)."""

    message: mido.Message
    duration: float | None = None


@dataclass
class Cue:
    """A point (`end` None) or a range [start, end) on one axis ("measure" or "progress")."""

    label: str
    axis: str
    start: float
    end: float | None
    send: tuple[Action, ...]
    exit: tuple[Action, ...] = ()
    skipped: str = "drop"
    page: int | None = None  # start/end count measures within this page until resolved


@dataclass
class CueFile:
    """A parsed cue file: its cues (in file order) and the settings shared by all."""

    path: str
    cues: list[Cue] = field(default_factory=list)
    margin: float = 0.5
    progress_margin: float = 0.01


def load(path: str) -> CueFile:
    """Parse and check a cue file; any problem is a SheetsyncError naming the file, the cue and the fault."""
    file = Path(path)
    if not file.is_file():
        raise SheetsyncError(f"MIDI cue file '{path}' does not exist")
    data = _read(file)
    if not isinstance(data, dict):
        raise SheetsyncError(f"{path}: expected a table with [[cue]] entries")
    unknown = set(data) - {"defaults", "cue"}
    if unknown:
        raise SheetsyncError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))} "
                             f"(expected [defaults] and [[cue]])")
    defaults = data.get("defaults", {})
    _check_keys(path, "[defaults]", defaults, DEFAULT_KEYS)
    result = CueFile(path, margin=_number(path, "[defaults]", defaults, "margin", 0.5, 0, 100),
                     progress_margin=_number(path, "[defaults]", defaults, "progress_margin", 0.01, 0, 1))
    entries = data.get("cue", [])
    if not isinstance(entries, list) or not entries:
        raise SheetsyncError(f"{path}: no cues (write them as [[cue]] entries)")
    for index, entry in enumerate(entries, 1):
        where = f"cue {index}" + (f" ({entry['name']})" if isinstance(entry, dict) and "name" in entry else "")
        if not isinstance(entry, dict):
            raise SheetsyncError(f"{path}: {where}: expected a table")
        result.cues.append(_cue(path, where, entry, defaults))
    return result


def _read(file: Path):
    text = file.read_bytes()
    if file.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise SheetsyncError(f"{file}: YAML cue files need PyYAML (pip install pyyaml); or write TOML") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise SheetsyncError(f"{file}: not valid YAML: {error}".replace("\n", " ")) from error
    try:
        return tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SheetsyncError(f"{file}: not valid TOML: {error}") from error


def _cue(path: str, where: str, entry: dict, defaults: dict) -> Cue:
    _check_keys(path, where, entry, CUE_KEYS)
    settings = {**defaults, **entry}
    skipped = settings.get("skipped", "drop")
    if skipped not in SKIP_POLICIES:
        raise SheetsyncError(f"{path}: {where}: skipped must be \"drop\" or \"fire\", not {skipped!r}")
    channel = _integer(path, where, settings, "channel", 1, 1, 16) - 1
    velocity = _integer(path, where, settings, "velocity", 100, 1, 127)
    axis, start, end, page = _place(path, where, entry)
    send = _actions(path, f"{where}: send", entry.get("send"), channel, velocity, required=True)
    exit_actions = _actions(path, f"{where}: exit", entry.get("exit"), channel, velocity, required=False)
    if exit_actions and end is None:
        raise SheetsyncError(f"{path}: {where}: exit messages need a range (measures = [A, B] or progress = [A, B])")
    return Cue(where, axis, start, end, send, exit_actions, skipped, page)


def _place(path: str, where: str, entry: dict) -> tuple[str, float, float | None, int | None]:
    """The cue's axis, start, end (None for a point) and page (None unless page-relative)."""
    given = [key for key in ("measure", "measures", "progress") if key in entry]
    page = _integer(path, where, entry, "page", None, 1, 10_000) if "page" in entry else None
    if len(given) > 1:
        raise SheetsyncError(f"{path}: {where}: give one of measure, measures or progress, not {' and '.join(given)}")
    if not given:
        if page is None:
            raise SheetsyncError(f"{path}: {where}: no position (give measure, measures, progress or page)")
        return "measure", 1.0, None, page
    key = given[0]
    if key == "progress":
        if page is not None:
            raise SheetsyncError(f"{path}: {where}: progress is through the whole piece; drop page")
        start, end = _span(path, where, entry, key, 0.0, 1.0)
        return "progress", start, end, None
    if key == "measures" and not isinstance(entry[key], list):
        raise SheetsyncError(f"{path}: {where}: measures must be a range [first, last]")
    if key == "measure" and isinstance(entry[key], list):
        raise SheetsyncError(f"{path}: {where}: measure must be one number (use measures = [first, last] for a range)")
    start, end = _span(path, where, entry, key, 0.0, 100_000.0)
    return "measure", start, None if end is None else end + 1.0, page


def _span(path, where, entry, key, low, high) -> tuple[float, float | None]:
    value = entry[key]
    if isinstance(value, list):
        if len(value) != 2 or not all(_is_number(v) for v in value):
            raise SheetsyncError(f"{path}: {where}: {key} range must be two numbers [first, last], not {value!r}")
        first, last = (float(v) for v in value)
        if not low <= first <= last <= high:
            raise SheetsyncError(f"{path}: {where}: {key} range {value!r} must have {low:g} <= first <= last <= {high:g}")
        return first, last
    return _number(path, where, entry, key, None, low, high), None


def _actions(path: str, where: str, items, channel: int, velocity: int, required: bool) -> tuple[Action, ...]:
    if items is None:
        if required:
            raise SheetsyncError(f"{path}: {where.rsplit(':', 1)[0]}: nothing to send (add send = [{{ note = 60 }}])")
        return ()
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or (required and not items):
        raise SheetsyncError(f"{path}: {where}: expected a list of messages like {{ note = 60 }}")
    return tuple(_action(path, f"{where} message {i}", item, channel, velocity) for i, item in enumerate(items, 1))


def _action(path: str, where: str, item, channel: int, velocity: int) -> Action:
    if not isinstance(item, dict):
        raise SheetsyncError(f"{path}: {where}: expected a table like {{ note = 60 }}, not {item!r}")
    _check_keys(path, where, item, MESSAGE_KEYS)
    kinds = [key for key in ("note", "note_off", "cc", "program") if key in item]
    if len(kinds) != 1:
        raise SheetsyncError(f"{path}: {where}: give exactly one of note, note_off, cc or program")
    kind = kinds[0]
    channel = _integer(path, where, item, "channel", channel + 1, 1, 16) - 1
    allowed = {"note": {"velocity", "duration"}, "note_off": set(), "cc": {"value"}, "program": set()}[kind]
    extra = set(item) - allowed - {kind, "channel"}
    if extra:
        raise SheetsyncError(f"{path}: {where}: {', '.join(sorted(extra))} does not apply to {kind}")
    if kind == "note":
        note = _note(path, where, item["note"])
        duration = _number(path, where, item, "duration", None, 0.001, 3600) if "duration" in item else None
        velocity = _integer(path, where, item, "velocity", velocity, 1, 127)
        return Action(mido.Message("note_on", channel=channel, note=note, velocity=velocity), duration)
    if kind == "note_off":
        return Action(mido.Message("note_off", channel=channel, note=_note(path, where, item["note_off"])))
    if kind == "cc":
        control = _integer(path, where, item, "cc", None, 0, 127)
        if "value" not in item:
            raise SheetsyncError(f"{path}: {where}: cc {control} needs a value (0-127)")
        value = _integer(path, where, item, "value", None, 0, 127)
        return Action(mido.Message("control_change", channel=channel, control=control, value=value))
    program = _integer(path, where, item, "program", None, 1, 128)
    return Action(mido.Message("program_change", channel=channel, program=program - 1))


def _note(path: str, where: str, value) -> int:
    """A MIDI note number from 0-127 or a name like C4, F#3, Bb2 (C4 = 60)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 127:
            return value
        raise SheetsyncError(f"{path}: {where}: note {value} is out of range 0-127")
    match = NOTE_PATTERN.match(str(value))
    if not match:
        raise SheetsyncError(f"{path}: {where}: note {value!r} is not a number 0-127 or a name like C4, F#3, Bb2")
    letter, accidental, octave = match.groups()
    number = 12 * (int(octave) + 1) + NOTE_NAMES[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]
    if not 0 <= number <= 127:
        raise SheetsyncError(f"{path}: {where}: note {value!r} ({number}) is out of range 0-127")
    return number


def _check_keys(path: str, where: str, table, allowed: set) -> None:
    if not isinstance(table, dict):
        raise SheetsyncError(f"{path}: {where}: expected a table")
    unknown = set(table) - allowed
    if unknown:
        raise SheetsyncError(f"{path}: {where}: unknown key(s) {', '.join(sorted(unknown))} "
                             f"(allowed: {', '.join(sorted(allowed))})")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(path, where, table, key, default, low, high) -> float:
    if key not in table:
        return default
    value = table[key]
    if not _is_number(value) or not low <= value <= high:
        raise SheetsyncError(f"{path}: {where}: {key} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def _integer(path, where, table, key, default, low, high) -> int:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SheetsyncError(f"{path}: {where}: {key} must be a whole number from {low} to {high}, not {value!r}")
    return value
