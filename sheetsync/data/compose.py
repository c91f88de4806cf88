"""A seeded composer of plausible piano pieces, written as MusicXML.

Real piano literature is scarce in the corpus, so this makes unlimited
two-staff piano music: phrases of four bars over common progressions, a right
hand (melody, melody with harmony, scales, arpeggios, octaves) over a left hand
(Alberti, stride, block chords, broken chords, sustained basses, walking
bass), in varied keys, meters, tempi and rhythms, with ties, repeats, key
changes, clef changes, dynamics, hairpins and staccatos.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DIVISIONS = 12  # per quarter note: sixteenths (3), eighth triplets (4), eighths (6)
MAJOR = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)
METERS = ((4, 4), (3, 4), (2, 4), (6, 8), (2, 2), (3, 8), (5, 4))
METER_WEIGHTS = (0.3, 0.22, 0.13, 0.15, 0.08, 0.06, 0.06)
PROGRESSIONS = {
    "major": ((0, 3, 4, 0), (0, 5, 3, 4), (0, 1, 4, 0), (5, 1, 4, 0), (0, 4, 5, 3), (0, 3, 0, 4), (2, 5, 1, 4)),
    "minor": ((0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 6, 2), (0, 4, 0, 4), (5, 3, 4, 0)),
}
RIGHT_TEXTURES = ("melody", "melody", "harmonised", "scales", "arpeggios", "octaves")
LEFT_TEXTURES = ("alberti", "stride", "block", "broken", "sustained", "walking")
TEMPO_WORDS = ((66, "Adagio"), (80, "Andante"), (100, "Moderato"), (120, "Allegretto"), (140, "Allegro"),
               (1000, "Vivace"))
DYNAMICS = ("pp", "p", "mp", "mf", "f", "ff")
TYPES = {48: ("whole", 0), 36: ("half", 1), 24: ("half", 0), 18: ("quarter", 1), 12: ("quarter", 0),
         9: ("eighth", 1), 6: ("eighth", 0), 3: ("16th", 0), 4: ("eighth", 0), 8: ("quarter", 0)}
SIMPLE_BEATS = ((12,), (6, 6), (6, 6), (3, 3, 6), (6, 3, 3), (3, 3, 3, 3), (9, 3), (4, 4, 4))
COMPOUND_BEATS = ((18,), (12, 6), (6, 6, 6), (6, 6, 6), (9, 3, 6), (6, 3, 3, 6))
SHARP_NAMES = (("C", 0), ("C", 1), ("D", 0), ("D", 1), ("E", 0), ("F", 0), ("F", 1), ("G", 0), ("G", 1), ("A", 0),
               ("A", 1), ("B", 0))
FLAT_NAMES = (("C", 0), ("D", -1), ("D", 0), ("E", -1), ("E", 0), ("F", 0), ("G", -1), ("G", 0), ("A", -1), ("A", 0),
              ("B", -1), ("B", 0))
SHARP_ORDER, FLAT_ORDER = "FCGDAEB", "BEADGCF"
TONIC_BY_FIFTHS = {f: (7 * f) % 12 for f in range(-6, 7)}


@dataclass(frozen=True)
class ComposedPiece:
    """A composed piece: its title, MusicXML text, seed and the choices made."""

    title: str
    musicxml: str
    seed: int
    params: dict = field(default_factory=dict)


@dataclass
class Event:
    """A note, chord or rest of one staff: duration in divisions, MIDI pitches (empty for a rest)."""

    duration: int
    pitches: tuple[int, ...]
    tie_start: bool = False
    tie_stop: bool = False
    staccato: bool = False
    triplet: bool = False


@dataclass
class Key:
    fifths: int
    minor: bool

    @property
    def tonic(self) -> int:
        return (TONIC_BY_FIFTHS[self.fifths] + (9 if self.minor else 0)) % 12

    @property
    def scale(self) -> tuple[int, ...]:
        return tuple((self.tonic + s) % 12 for s in (HARMONIC_MINOR if self.minor else MAJOR))

    def chord(self, degree: int) -> tuple[int, int, int]:
        scale = self.scale
        return tuple(scale[(degree + k) % 7] for k in (0, 2, 4))


def compose_piece(seed: int, measures: int | None = None) -> ComposedPiece:
    """A deterministic piano piece for `seed` (about 1-4 pages), `measures` long if given."""
    rng = np.random.default_rng(seed)
    beats, beat_type = METERS[rng.choice(len(METERS), p=METER_WEIGHTS)]
    compound = beat_type == 8 and beats % 3 == 0
    measure_length = beats * DIVISIONS * 4 // beat_type
    beat_length = 18 if compound else DIVISIONS * 4 // beat_type
    if measures is None:
        measures = int(rng.choice([24, 32, 40, 48, 64, 80, 96]))
    key = Key(int(rng.integers(-5, 6)), bool(rng.random() < 0.35))
    tempo = int(rng.integers(56, 152))
    sections = _sections(rng, measures)
    composer = _Composer(rng, measure_length, beat_length, compound)
    measures_xml, textures = [], []
    current_key, left_clef, tied = key, "F", None
    for index, (start, length, repeat) in enumerate(sections):
        if index and rng.random() < 0.3:
            current_key = Key(int(np.clip(key.fifths + rng.choice([-1, 1]), -6, 6)), key.minor)
        right, left = str(rng.choice(RIGHT_TEXTURES)), str(rng.choice(LEFT_TEXTURES))
        high_left = left in ("broken", "alberti") and rng.random() < 0.2
        textures.append((right, left))
        for bar in range(length):
            number = start + bar
            chord = current_key.chord(composer.progression(current_key, bar))
            rh = composer.right_hand(right, chord, current_key)
            if tied is not None:
                rh[0].pitches, rh[0].tie_stop = tied, True
            tied = rh[-1].pitches if rh[-1].tie_start and bar < length - 1 else None
            rh[-1].tie_start = tied is not None
            lh = composer.left_hand(left, chord, current_key, octave=4 if high_left else 3)
            clef = "G" if high_left else "F"
            attributes = _attributes(current_key if (number == 0 or (bar == 0 and current_key != key)) else None,
                                     (beats, beat_type) if number == 0 else None,
                                     {1: "G", 2: clef} if number == 0 else None)
            if bar == 0 and number and clef != left_clef:
                attributes += _clef_change(clef)
            left_clef = clef
            directions = _directions(rng, bar, tempo if number == 0 else None)
            measures_xml.append(_measure(number + 1, attributes, directions, rh, lh, current_key, compound,
                                         repeat_start=repeat and bar == 0, repeat_end=repeat and bar == length - 1,
                                         final=number == measures - 1))
        key = current_key
    title = f"Study No. {seed % 1000} in {_key_name(key)}"
    params = {"key": key.fifths, "minor": key.minor, "meter": f"{beats}/{beat_type}", "tempo": tempo,
              "measures": measures, "textures": textures, "repeats": sum(r for _, _, r in sections)}
    return ComposedPiece(title, _document(title, measures_xml), seed, params)


def _sections(rng, measures: int) -> list[tuple[int, int, bool]]:
    """(first measure, length, repeated) of each section: phrases of 4 or 8 bars."""
    sections, start = [], 0
    while start < measures:
        length = min(int(rng.choice([8, 8, 16])), measures - start)
        sections.append((start, length, bool(rng.random() < 0.3 and length >= 4)))
        start += length
    return sections


class _Composer:
    def __init__(self, rng, measure_length: int, beat_length: int, compound: bool):
        self.rng, self.measure_length, self.beat_length, self.compound = rng, measure_length, beat_length, compound
        self.phrase: tuple[int, ...] = ()
        self.melody = 72

    def progression(self, key: Key, bar: int) -> int:
        if bar % 4 == 0:
            choices = PROGRESSIONS["minor" if key.minor else "major"]
            self.phrase = choices[self.rng.integers(len(choices))]
        return self.phrase[bar % 4]

    def rhythm(self, dense: bool = False) -> list[tuple[int, bool]]:
        """Durations filling a measure, with a triplet flag."""
        patterns = COMPOUND_BEATS if self.compound else SIMPLE_BEATS
        out, filled = [], 0
        while filled < self.measure_length:
            left = self.measure_length - filled
            if not dense and left >= 2 * self.beat_length and self.rng.random() < 0.15:
                out.append((2 * self.beat_length, False))
                filled += 2 * self.beat_length
                continue
            pattern = patterns[self.rng.integers(len(patterns))] if self.beat_length in (12, 18) else (self.beat_length,)
            if dense and len(pattern) < 2:
                pattern = patterns[2]
            out += [(d, self.beat_length == 12 and len(pattern) == 3 and d == 4) for d in pattern]
            filled += sum(pattern)
        return out

    def _step(self, key: Key, chord, strong: bool, low: int = 62, high: int = 86) -> int:
        candidates = [p for p in range(self.melody - 7, self.melody + 8) if low <= p <= high and
                      (p % 12 in chord if strong else p % 12 in key.scale)]
        weights = np.array([1.0 / (1 + abs(p - self.melody)) ** 1.5 for p in candidates])
        self.melody = int(candidates[self.rng.choice(len(candidates), p=weights / weights.sum())])
        return self.melody

    def right_hand(self, texture: str, chord, key: Key) -> list[Event]:
        rng = self.rng
        if texture in ("scales", "arpeggios"):
            unit = 3 if self.beat_length == 12 and rng.random() < 0.5 else 6
            tones = key.scale if texture == "scales" else chord
            pool = [p for p in range(60, 91) if p % 12 in tones]
            position = int(np.argmin([abs(p - self.melody) for p in pool]))
            direction = 1 if rng.random() < 0.5 else -1
            events = []
            for _ in range(self.measure_length // unit):
                if not 0 <= position + direction < len(pool):
                    direction = -direction
                position += direction
                events.append(Event(unit, (pool[position],)))
            self.melody = pool[position]
            return events
        events, time = [], 0
        for duration, triplet in self.rhythm():
            strong = time % self.beat_length == 0
            if rng.random() < 0.05 and time:
                events.append(Event(duration, (), triplet=triplet))
            else:
                pitch = self._step(key, chord, strong)
                pitches = (pitch,)
                if texture == "octaves" and pitch - 12 >= 55:
                    pitches = (pitch - 12, pitch)
                elif texture == "harmonised" and strong:
                    below = [p for p in range(pitch - 9, pitch - 2) if p % 12 in chord]
                    pitches = (below[-1], pitch) if below else pitches
                events.append(Event(duration, pitches, staccato=duration <= 6 and rng.random() < 0.15,
                                    triplet=triplet))
            time += duration
        if rng.random() < 0.12 and events[-1].pitches and not events[-1].triplet:
            events[-1].tie_start = True
        return events

    def left_hand(self, texture: str, chord, key: Key, octave: int) -> list[Event]:
        base = 12 * (octave + 1)
        root, third, fifth = (base + pc for pc in chord)
        third += 12 if third < root else 0
        fifth += 12 if fifth < root else 0
        bass = root - 12 if octave == 3 and root - 12 >= 28 else root
        length, beat = self.measure_length, self.beat_length
        if texture == "alberti":
            unit = 6
            cycle = (root, fifth, third, fifth)
            return [Event(unit, (cycle[i % 4],)) for i in range(length // unit)]
        if texture == "broken":
            unit = 6
            cycle = (bass, bass + 7, third, bass + 12)
            return [Event(unit, (cycle[i % 4],)) for i in range(length // unit)]
        if texture == "stride" and length // beat >= 2:
            return [Event(beat, (bass,) if i % 2 == 0 else (third, fifth, root + 12), staccato=i % 2 == 1)
                    for i in range(length // beat)]
        if texture == "walking":
            pool = [p for p in range(bass - 5, bass + 12) if p % 12 in key.scale]
            return [Event(beat, (pool[min(len(pool) - 1, i * 2 % len(pool))] if i else bass,))
                    for i in range(length // beat)]
        if texture == "sustained":
            return [Event(length, (bass, bass + 12))] if length in TYPES else _split(length, beat, (bass, bass + 12))
        return _split(length, beat * (2 if length % (2 * beat) == 0 else 1), (bass, third, fifth))


def _split(length: int, unit: int, pitches) -> list[Event]:
    unit = unit if unit in TYPES else 12
    return [Event(unit, tuple(pitches)) for _ in range(length // unit)]


def _attributes(key: Key | None, meter, clefs) -> str:
    parts = []
    if clefs:
        parts.append(f"<divisions>{DIVISIONS}</divisions>")
    if key is not None:
        parts.append(f"<key><fifths>{key.fifths}</fifths><mode>{'minor' if key.minor else 'major'}</mode></key>")
    if meter:
        parts.append(f"<time><beats>{meter[0]}</beats><beat-type>{meter[1]}</beat-type></time><staves>2</staves>")
    if clefs:
        parts += [f'<clef number="{n}"><sign>{s}</sign><line>{2 if s == "G" else 4}</line></clef>'
                  for n, s in clefs.items()]
    return f"<attributes>{''.join(parts)}</attributes>" if parts else ""


def _clef_change(sign: str) -> str:
    return f'<attributes><clef number="2"><sign>{sign}</sign><line>{2 if sign == "G" else 4}</line></clef></attributes>'


def _directions(rng, bar: int, tempo: int | None) -> str:
    parts = []
    if tempo:
        # A tempo word rather than a metronome mark: the mark's note glyph needs a SMuFL text font.
        word = next(name for limit, name in TEMPO_WORDS if tempo < limit)
        parts.append(f'<direction placement="above"><direction-type><words font-weight="bold">{word}</words>'
                     f'</direction-type><staff>1</staff><sound tempo="{tempo}"/></direction>')
    if bar % 4 == 0 and (tempo or rng.random() < 0.5):
        mark = DYNAMICS[rng.integers(len(DYNAMICS))]
        parts.append(f'<direction placement="below"><direction-type><dynamics><{mark}/></dynamics>'
                     f'</direction-type><staff>1</staff></direction>')
    elif bar % 4 == 1 and rng.random() < 0.25:
        kind = "crescendo" if rng.random() < 0.5 else "diminuendo"
        parts.append(f'<direction placement="below"><direction-type><wedge type="{kind}"/></direction-type>'
                     f'<staff>1</staff></direction>')
    return "".join(parts)


def _measure(number: int, attributes: str, directions: str, right: list[Event], left: list[Event], key: Key,
             compound: bool, repeat_start: bool, repeat_end: bool, final: bool) -> str:
    parts = []
    if repeat_start:
        parts.append('<barline location="left"><bar-style>heavy-light</bar-style><repeat direction="forward"/></barline>')
    parts.append(attributes + directions)
    length = sum(e.duration for e in right)
    parts += _staff_events(right, staff=1, voice=1, key=key, compound=compound)
    parts.append(f"<backup><duration>{length}</duration></backup>")
    parts += _staff_events(left, staff=2, voice=5, key=key, compound=compound)
    if repeat_end:
        parts.append('<barline location="right"><bar-style>light-heavy</bar-style><repeat direction="backward"/></barline>')
    elif final:
        parts.append('<barline location="right"><bar-style>light-heavy</bar-style></barline>')
    return f'<measure number="{number}">{"".join(parts)}</measure>'


def _staff_events(events: list[Event], staff: int, voice: int, key: Key, compound: bool) -> list[str]:
    altered: dict[tuple[str, int], int] = {}  # accidentals so far in this measure
    beams = _beams(events, 18 if compound else 12)
    notes, triplets = [], 0
    for event, beam in zip(events, beams):
        tuplet = ""
        if event.triplet:
            tuplet = '<tuplet type="start" bracket="no"/>' if triplets % 3 == 0 else \
                '<tuplet type="stop"/>' if triplets % 3 == 2 else ""
            triplets += 1
        kind, dots = TYPES[event.duration if not event.triplet else 4]
        common = (f"<duration>{event.duration}</duration>"
                  + ('<tie type="stop"/>' if event.tie_stop else "") + ('<tie type="start"/>' if event.tie_start else "")
                  + f"<voice>{voice}</voice><type>{kind}</type>" + "<dot/>" * dots)
        if not event.pitches:
            notes.append(f"<note><rest/>{common}<staff>{staff}</staff></note>")
            continue
        for index, pitch in enumerate(sorted(event.pitches)):
            step, alter, octave = _spell(pitch, key.fifths)
            accidental = ""
            if altered.get((step, octave), _key_alter(step, key.fifths)) != alter:
                accidental = f"<accidental>{({1: 'sharp', -1: 'flat', 0: 'natural'})[alter]}</accidental>"
                altered[(step, octave)] = alter
            pitch_xml = f"<pitch><step>{step}</step>{f'<alter>{alter}</alter>' if alter else ''}<octave>{octave}</octave></pitch>"
            time_mod = "<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes></time-modification>" \
                if event.triplet else ""
            notations = [tuplet] if tuplet and index == 0 else []
            if event.tie_start:
                notations.append('<tied type="start"/>')
            if event.tie_stop:
                notations.append('<tied type="stop"/>')
            if event.staccato and index == 0:
                notations.append("<articulations><staccato/></articulations>")
            notes.append(f"<note>{'<chord/>' if index else ''}{pitch_xml}{common}{accidental}{time_mod}"
                         f"<staff>{staff}</staff>{beam if index == 0 else ''}"
                         f"{'<notations>' + ''.join(notations) + '</notations>' if notations else ''}</note>")
    return notes


def _beams(events: list[Event], beat: int) -> list[str]:
    """Beam elements joining the eighths and sixteenths inside each beat."""
    beams, time, group = [""] * len(events), 0, []

    def close():
        beamable = [i for i in group if events[i].pitches and events[i].duration < 12]
        if len(beamable) == len(group) and len(group) >= 2:
            for position, i in enumerate(group):
                state = "begin" if position == 0 else "end" if position == len(group) - 1 else "continue"
                beams[i] = f'<beam number="1">{state}</beam>'
                if events[i].duration == 3:
                    before = position > 0 and events[group[position - 1]].duration == 3
                    after = position < len(group) - 1 and events[group[position + 1]].duration == 3
                    second = ("continue" if before and after else "end" if before else "begin" if after
                              else "backward hook" if position else "forward hook")
                    beams[i] += f'<beam number="2">{second}</beam>'
        group.clear()

    for index, event in enumerate(events):
        if time % beat == 0:
            close()
        group.append(index)
        time += event.duration
    close()
    return beams


def _spell(pitch: int, fifths: int) -> tuple[str, int, int]:
    step, alter = (SHARP_NAMES if fifths >= 0 else FLAT_NAMES)[pitch % 12]
    if fifths >= 5 and pitch % 12 == 5 and _key_alter("E", fifths) == 1:
        step, alter = "E", 1
    octave = (pitch - alter) // 12 - 1
    return step, alter, octave


def _key_alter(step: str, fifths: int) -> int:
    if fifths > 0 and step in SHARP_ORDER[:fifths]:
        return 1
    if fifths < 0 and step in FLAT_ORDER[:-fifths]:
        return -1
    return 0


def _key_name(key: Key) -> str:
    names = ("C", "D-flat", "D", "E-flat", "E", "F", "F-sharp", "G", "A-flat", "A", "B-flat", "B")
    return f"{names[key.tonic]} {'minor' if key.minor else 'major'}"


def _document(title: str, measures: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<score-partwise version="3.1">'
            f"<work><work-title>{title}</work-title></work>"
            '<identification><creator type="composer">sheetsync composer</creator></identification>'
            '<part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
            f'<part id="P1">{"".join(measures)}</part></score-partwise>')
