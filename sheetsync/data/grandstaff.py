"""Turn a four-part (SATB) MusicXML score into a two-staff piano score.

Soprano and alto share the treble staff as voices 1 and 2, tenor and bass the
bass staff as voices 3 and 4; lyrics and part names go, everything else stays.
Scores that are not four parts with one shared time base come back unchanged.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

MUSIC = {"note", "backup", "forward"}
KEPT_FROM_SOPRANO = MUSIC | {"direction", "barline", "print", "sound"}


def four_parts_to_grand_staff(musicxml: str) -> str:
    """A piano reduction of a four-part score, or the input when it does not apply."""
    root = ET.fromstring(musicxml.encode("utf-8"))
    parts = root.findall("part")
    if root.tag != "score-partwise" or len(parts) != 4:
        return musicxml
    measures = [part.findall("measure") for part in parts]
    if len({len(m) for m in measures}) != 1 or len({_divisions(part) for part in parts}) != 1:
        return musicxml
    piano = ET.Element("part", id="P1")
    for index, group in enumerate(zip(*measures)):
        piano.append(_merge_measure(group, first=index == 0))
    for part in parts:
        root.remove(part)
    root.append(piano)
    _replace_part_list(root)
    return ET.tostring(root, encoding="unicode")


def _divisions(part) -> str | None:
    element = part.find("measure/attributes/divisions")
    return element.text.strip() if element is not None and element.text else None


def _merge_measure(group, first: bool):
    merged = ET.Element("measure", group[0].attrib)
    for voice, measure in enumerate(group, start=1):
        staff = "1" if voice <= 2 else "2"
        if voice == 1:
            for child in measure:
                if child.tag == "attributes":
                    merged.append(_piano_attributes(child, first))
                elif child.tag in KEPT_FROM_SOPRANO:
                    merged.append(_voiced(child, voice, staff))
        else:
            merged.extend(_voiced(child, voice, staff) for child in measure if child.tag in MUSIC)
        if voice < 4:
            length = _measure_length(measure)
            if length:
                backup = ET.SubElement(merged, "backup")
                ET.SubElement(backup, "duration").text = str(length)
    return merged


def _piano_attributes(attributes, first: bool):
    merged = ET.Element("attributes")
    for child in attributes:
        if child.tag not in ("clef", "staves"):
            merged.append(copy.deepcopy(child))
    if first:
        staves = ET.Element("staves")
        staves.text = "2"
        position = next((i for i, c in enumerate(merged) if c.tag in ("instruments", "clef")), len(merged))
        merged.insert(position, staves)
        for number, (sign, line) in ((1, ("G", "2")), (2, ("F", "4"))):
            clef = ET.SubElement(merged, "clef", number=str(number))
            ET.SubElement(clef, "sign").text = sign
            ET.SubElement(clef, "line").text = line
    return merged


def _voiced(element, voice: int, staff: str):
    element = copy.deepcopy(element)
    if element.tag == "note":
        for unwanted in element.findall("lyric") + element.findall("stem"):
            element.remove(unwanted)
        for old in element.findall("voice") + element.findall("staff"):
            element.remove(old)
        _insert_after(element, ET.Element("voice"), ("duration", "tie", "cue", "grace", "pitch", "rest", "unpitched"))
        element.find("voice").text = str(voice)
        _insert_after(element, ET.Element("staff"), ("notehead", "stem", "time-modification", "accidental", "dot",
                                                      "type", "instrument", "voice"))
        element.find("staff").text = staff
    elif element.tag in ("direction", "forward"):
        for old in element.findall("staff") + element.findall("voice"):
            element.remove(old)
        tail = ET.SubElement(element, "staff")
        tail.text = staff
    return element


def _insert_after(parent, child, predecessors: tuple[str, ...]) -> None:
    """Insert `child` after the last of `predecessors` present (MusicXML's element order matters)."""
    position = 0
    for index, existing in enumerate(parent):
        if existing.tag in predecessors:
            position = index + 1
    parent.insert(position, child)


def _measure_length(measure) -> int:
    """Where the measure's last event ends, in divisions: the backup that returns to its start."""
    time = 0
    for child in measure:
        duration = child.find("duration")
        value = int(float(duration.text)) if duration is not None and duration.text else 0
        if child.tag == "note" and child.find("chord") is None and child.find("grace") is None:
            time += value
        elif child.tag == "forward":
            time += value
        elif child.tag == "backup":
            time -= value
    return time


def _replace_part_list(root) -> None:
    part_list = root.find("part-list")
    for child in list(part_list):
        part_list.remove(child)
    score_part = ET.SubElement(part_list, "score-part", id="P1")
    ET.SubElement(score_part, "part-name").text = "Piano"
