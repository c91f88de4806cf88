"""Engrave a score with verovio: grey page images, system boxes and every played note's place.

Coordinates are pixels of the rasterised page. Notes come in performance order
(repeats expanded, tie continuations merged into the note they prolong), with
times in seconds at the score's own tempo; tempo augmentation warps them later.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass

import numpy as np

from sheetsync.errors import SheetsyncError

SVG = "{http://www.w3.org/2000/svg}"
PAGE_SIZES_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
FONTS = ("Leipzig", "Bravura", "Leland", "Petaluma", "Gootville")
REPEAT_SUFFIX = re.compile(r"-rend\d+$")
TRANSLATE = re.compile(r"translate\(\s*([-\d.]+)[ ,]+([-\d.]+)\s*\)")
BOUNDING_BOX = re.compile(r'<g id="bbox-[^"]*"[^>]*?(?:/>|>\s*<rect[^>]*/>\s*</g>)')
LINE_PATH = re.compile(r"M\s*([-\d.]+)[ ,]+([-\d.]+)\s*L\s*([-\d.]+)[ ,]+([-\d.]+)")


@dataclass(frozen=True)
class EngraveStyle:
    """How a score is laid out: page size, staff size, music font and spacing."""

    page: str = "A4"
    unit: float = 9.0
    font: str = "Leipzig"
    spacing_staff: int = 12
    spacing_system: int = 4
    spacing_linear: float = 0.25
    spacing_non_linear: float = 0.6
    margin: int = 50

    def page_mm(self) -> tuple[float, float]:
        return PAGE_SIZES_MM[self.page]

    def verovio_options(self) -> dict:
        width_mm, height_mm = self.page_mm()
        margin = self.margin
        return {
            "pageWidth": round(width_mm * 10),
            "pageHeight": round(height_mm * 10),
            "pageMarginTop": margin,
            "pageMarginBottom": margin,
            "pageMarginLeft": margin,
            "pageMarginRight": margin,
            "scale": 40,
            "unit": self.unit,
            "font": self.font,
            "spacingStaff": self.spacing_staff,
            "spacingSystem": self.spacing_system,
            "spacingLinear": self.spacing_linear,
            "spacingNonLinear": self.spacing_non_linear,
            "header": "none",
            "footer": "none",
            "breaks": "auto",
            "adjustPageHeight": False,
            "svgBoundingBoxes": True,
            "xmlIdSeed": 1,
        }

    def to_dict(self) -> dict:
        return asdict(self)


def random_style(rng: np.random.Generator) -> EngraveStyle:
    """A plausible layout drawn at random: the model must not learn one engraver's look."""
    return EngraveStyle(
        page=str(rng.choice(["A4", "A4", "Letter"])),
        unit=float(np.round(rng.uniform(7.0, 10.5), 2)),
        font=str(rng.choice(FONTS)),
        spacing_staff=int(rng.integers(8, 18)),
        spacing_system=int(rng.integers(3, 14)),
        spacing_linear=float(np.round(rng.uniform(0.2, 0.3), 3)),
        spacing_non_linear=float(np.round(rng.uniform(0.5, 0.7), 3)),
        margin=int(rng.integers(35, 90)),
    )


@dataclass(frozen=True)
class EngravedNote:
    """One played note: times in seconds at the score's tempo, place in page pixels."""

    start: float
    end: float
    pitch: int
    page: int
    system: int
    x: float
    y: float


@dataclass
class Engraving:
    """The result of engraving one score."""

    pages: list[np.ndarray]
    dpi: float
    systems: list[tuple[int, tuple[float, float, float, float]]]
    notes: list[EngravedNote]
    title: str
    unplaced_notes: int = 0


_toolkit = threading.local()


def _verovio_toolkit():
    import verovio

    if not hasattr(_toolkit, "tk"):
        verovio.enableLog(verovio.LOG_OFF)
        _toolkit.tk = verovio.toolkit(False)
        _toolkit.tk.setResourcePath(_resource_path())
    return _toolkit.tk


def _resource_path() -> str:
    import os

    import verovio

    return os.path.join(os.path.dirname(verovio.__file__), "data")


def engrave(data: str, style: EngraveStyle = EngraveStyle(), dpi: float = 100.0, name: str = "score") -> Engraving:
    """Engrave score text (MusicXML, MEI or Humdrum) into pages, systems and placed notes."""
    tk = _verovio_toolkit()
    tk.resetOptions()
    tk.setOptions(style.verovio_options())
    if not tk.loadData(data):
        raise SheetsyncError(f"verovio cannot load {name}")
    page_count = tk.getPageCount()
    if page_count < 1:
        raise SheetsyncError(f"verovio engraved no pages for {name}")
    width = round(style.page_mm()[0] / 25.4 * dpi)
    pages, systems, places = [], [], {}
    for page in range(page_count):
        svg = tk.renderToSVG(page + 1)
        pages.append(_rasterise(svg, width))
        page_systems, page_places = _read_layout(svg, pages[-1].shape[::-1], first_system=len(systems))
        systems.extend((page, box) for box in page_systems)
        places.update({note_id: (page, *place) for note_id, place in page_places.items()})
    mei = tk.getMEI()  # serialising the whole score is not cheap: once, for ties, graces and the title
    notes, unplaced = _played_notes(tk, places, mei)
    if not notes:
        raise SheetsyncError(f"{name} has no notes that verovio could place")
    return Engraving(pages, dpi, systems, notes, _title(mei), unplaced)


def _rasterise(svg: str, width: int) -> np.ndarray:
    """Grey page pixels; resvg is ~5x faster than cairosvg on verovio's glyph-heavy SVG."""
    import resvg_py
    from PIL import Image

    # The invisible bounding boxes sit inside <tspan>s too, which moves text to the page corner.
    png = resvg_py.svg_to_bytes(svg_string=BOUNDING_BOX.sub("", svg), width=width, background="#ffffff",
                                font_family="DejaVu Serif", serif_family="DejaVu Serif")
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def _read_layout(svg: str, size: tuple[int, int], first_system: int):
    """System boxes and note centres of one page SVG, converted to page pixels."""
    root = ET.fromstring(svg)
    inner = root.find(f"{SVG}svg")
    view = [float(v) for v in inner.get("viewBox").split()]
    margin_group = inner.find(f"{SVG}g")
    tx, ty = (float(v) for v in TRANSLATE.search(margin_group.get("transform")).groups())
    sx, sy = size[0] / view[2], size[1] / view[3]

    def to_page(x: float, y: float) -> tuple[float, float]:
        return (x + tx) * sx, (y + ty) * sy

    boxes, places = [], {}
    for system in margin_group.iter(f"{SVG}g"):
        if _classes(system)[:1] != ["system"]:
            continue
        lines = [line for staff in system.iter(f"{SVG}g") if _classes(staff)[:1] == ["staff"]
                 for line in _staff_lines(staff)]
        if not lines:
            continue
        x0, y0 = to_page(min(l[0] for l in lines), min(l[1] for l in lines))
        x1, y1 = to_page(max(l[2] for l in lines), max(l[1] for l in lines))
        index = first_system + len(boxes)
        boxes.append((x0, y0, x1, y1))
        for note in system.iter(f"{SVG}g"):
            if _classes(note)[:1] == ["note"]:
                centre = _bbox_centre(note)
                if centre is not None:
                    places[note.get("id")] = (index, *to_page(*centre))
    return boxes, places


def _classes(element) -> list[str]:
    return (element.get("class") or "").split()


def _staff_lines(staff) -> list[tuple[float, float, float]]:
    lines = []
    for path in staff.findall(f"{SVG}path"):
        match = LINE_PATH.match(path.get("d") or "")
        if match:
            x0, y0, x1, y1 = map(float, match.groups())
            if y0 == y1:
                lines.append((min(x0, x1), y0, max(x0, x1)))
    return lines


def _bbox_centre(note) -> tuple[float, float] | None:
    for group in note.findall(f"{SVG}g"):
        if "bounding-box" in _classes(group):
            rect = group.find(f"{SVG}rect")
            if rect is not None and float(rect.get("width")) > 0:
                x, y = float(rect.get("x")), float(rect.get("y"))
                return x + float(rect.get("width")) / 2, y + float(rect.get("height")) / 2
    return None


def _played_notes(tk, places: dict, mei: str) -> tuple[list[EngravedNote], int]:
    """Notes in performance order from the timemap, tie continuations merged, grace notes dropped."""
    tie_ends, graces = _tie_ends_and_graces(mei)
    starts, ends = {}, {}
    for event in tk.renderToTimemap():
        seconds = event["tstamp"] / 1000.0
        for note_id in event.get("on", ()):
            starts[note_id] = seconds
        for note_id in event.get("off", ()):
            ends[note_id] = seconds
    notes: list[EngravedNote] = []
    sounding: dict[int, int] = {}
    unplaced = 0
    for note_id, start in sorted(starts.items(), key=lambda item: item[1]):
        base_id = REPEAT_SUFFIX.sub("", note_id)
        if base_id in graces:
            continue
        end = ends.get(note_id, start)
        pitch = int(tk.getMIDIValuesForElement(base_id).get("pitch", 0))
        if base_id in tie_ends and pitch in sounding:
            held = notes[sounding[pitch]]
            notes[sounding[pitch]] = EngravedNote(held.start, max(held.end, end), pitch, held.page,
                                                  held.system, held.x, held.y)
            continue
        place = places.get(base_id)
        if place is None:
            unplaced += 1
            continue
        page, system, x, y = place
        sounding[pitch] = len(notes)
        notes.append(EngravedNote(start, end, pitch, page, system, x, y))
    return notes, unplaced


def _tie_ends_and_graces(mei: str) -> tuple[set[str], set[str]]:
    root = ET.fromstring(mei.encode())
    xml_id = "{http://www.w3.org/XML/1998/namespace}id"
    tie_ends, graces = set(), set()
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "tie" and element.get("endid"):
            tie_ends.add(element.get("endid").lstrip("#"))
        elif tag == "note":
            if element.get("tie") in ("m", "t"):
                tie_ends.add(element.get(xml_id))
            if element.get("grace"):
                graces.add(element.get(xml_id))
    return tie_ends, graces


def _title(mei: str) -> str:
    match = re.search(r"<title[^>]*>([^<]+)</title>", mei)
    return match.group(1).strip() if match else ""
