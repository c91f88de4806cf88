"""Turn a four-part (SATB) MusicXML score into a two-staff piano score.

Soprano and alto share the treble staff as voices 1 and 2, tenor and bass the
bass staff as voices 3 and 4; lyrics, part names and instrumental parts (the
horns and trumpets some chorales add) go, everything else stays. Scores without
four voice parts sharing one time base come back unchanged.
"""

from __future__ import annotations

import copy
import math
import xml.etree.ElementTree as ET

VOICES = ("soprano", "alto", "tenor", "bass")
MUSIC = {"note", "backup", "forward"}
KEPT_FROM_SOPRANO = MUSIC | {"direction", "barline", "print", "sound"}


def four_parts_to_grand_staff(musicxml: str) -> str:
    """A piano reduction of a four-part score, or the input when it does not apply."""
    root = ET.fromstring(musicxml.encode("utf-8"))
    if root.tag != "score-partwise":
        return musicxml
    parts = _voice_parts(root)
    if parts is None:
        return musicxml
    measures = [part.findall("measure") for part in parts]
    divisions = [_divisions(part) for part in parts]
    if len({len(m) for m in measures}) != 1 or None in divisions:
        return musicxml
    common = math.lcm(*divisions)
    for part, own in zip(parts, divisions):
        _rescale_durations(part, common // own, common)
    piano = ET.Element("part", id="P1")
    for index, group in enumerate(zip(*measures)):
        piano.append(_merge_measure(group, first=index == 0))
    for part in root.findall("part"):
        root.remove(part)
    root.append(piano)
    _replace_part_list(root)
    return ET.tostring(root, encoding="unicode")


def _voice_parts(root) -> list | None:
    """The soprano, alto, tenor and bass parts: by name, or the only four parts there are."""
    parts = root.findall("part")
    names = {sp.get("id"): (sp.findtext("part-name") or "").strip().lower() for sp in root.iter("score-part")}
    by_voice = []
    for voice in VOICES:
        matches = [p for p in parts if names.get(p.get("id"), "").startswith(voice)]
        if len(matches) != 1:
            break
        by_voice.append(matches[0])
    if len(by_voice) == 4:
        return by_voice
    return parts if len(parts) == 4 else None


def _divisions(part) -> int | None:
    element = part.find("measure/attributes/divisions")
    try:
        return int(element.text)
    except (AttributeError, TypeError, ValueError):
        return None


def _rescale_durations(part, factor: int, divisions: int) -> None:
    """Express every duration of `part` in `divisions` per quarter note."""
    for element in part.iter("divisions"):
        element.text = str(divisions)
    if factor != 1:
        for element in part.iter("duration"):
            element.text = str(round(float(element.text) * factor))


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
