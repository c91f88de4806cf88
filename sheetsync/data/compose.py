"""A seeded composer of plausible piano pieces, written directly as MusicXML.

Real piano literature is scarce in the corpus, so this makes unlimited
two-staff piano music for training: sections of four-bar phrases over common
progressions (with half and full cadences, circles of fifths, repeats and
returns), a right hand (melody, melody over chords, thirds, octaves, two
voices, scales, arpeggios, chords) over a left hand (Alberti, stride, block
chords, broken chords, sustained octaves, walking bass, octave bass, the
melody), in every key up to six sharps or flats, in nine meters, with dotted
rhythms, sixteenths, triplets, rests, ties across barlines, slurs,
articulations, dynamics, hairpins, pedal marks, key changes and clef changes
that follow the hands' registers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

DIVISIONS = 12  # per quarter note: sixteenths (3), eighth triplets (4), eighths (6)
LOWEST, HIGHEST = 21, 108  # the piano's keys, as MIDI pitches
LETTERS = "CDEFGAB"
NATURAL_PCS = (0, 2, 4, 5, 7, 9, 11)
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)  # natural minor; dominant chords raise the seventh degree
SHARP_ORDER, FLAT_ORDER = "FCGDAEB", "BEADGCF"
NOTE_TYPES = {72: ("whole", 1), 48: ("whole", 0), 36: ("half", 1), 24: ("half", 0), 18: ("quarter", 1),
              12: ("quarter", 0), 9: ("eighth", 1), 6: ("eighth", 0), 3: ("16th", 0)}

METERS = {"4/4": 0.22, "3/4": 0.2, "2/4": 0.13, "6/8": 0.15, "2/2": 0.09, "3/8": 0.07, "12/8": 0.06, "5/4": 0.04,
          "9/8": 0.04}
BARS_PER_PAGE = {"2/4": 40, "3/8": 52, "3/4": 30, "6/8": 32, "4/4": 22, "2/2": 24, "9/8": 20, "5/4": 18,
                 "12/8": 16}  # on an A4 page in the default engraving style
KEY_WEIGHTS = {0: 3, 1: 3, -1: 3, 2: 3, -2: 3, 3: 2.5, -3: 2.5, 4: 2, -4: 2, 5: 1.3, -5: 1.3, 6: 0.6, -6: 0.6}
TEMPO_WORDS = ((60, "Largo"), (72, "Adagio"), (88, "Andante"), (108, "Moderato"), (124, "Allegretto"),
               (148, "Allegro"), (999, "Vivace"))
DYNAMICS = ("pp", "p", "mp", "mf", "f", "ff")

# Roman numerals of each mode: (scale degree, raise the minor seventh degree, add a seventh)
CHORDS = {
    False: {"I": (0, False, False), "ii": (1, False, False), "ii7": (1, False, True), "iii": (2, False, False),
            "IV": (3, False, False), "V": (4, False, False), "V7": (4, False, True), "vi": (5, False, False),
            "vii": (6, False, False)},
    True: {"i": (0, False, False), "ii": (1, False, False), "III": (2, False, False), "iv": (3, False, False),
           "V": (4, True, False), "V7": (4, True, True), "VI": (5, False, False), "VII": (6, False, False),
           "vii": (6, True, False)},
}
# Four-bar progressions ending on the tonic (full cadence) or the dominant (half cadence), eight-bar circles.
FULL_CADENCES = {
    False: ("I IV V7 I", "I ii V7 I", "vi ii V7 I", "I vi V7 I", "IV I V7 I", "I ii7 V7 I", "I IV V I"),
    True: ("i iv V7 i", "i VI V7 i", "i iv V i", "VI iv V7 i", "i ii V7 i", "III iv V7 i"),
}
HALF_CADENCES = {
    False: ("I IV I V", "I vi IV V", "I ii I V", "I iii IV V", "vi IV ii V", "I V vi V"),
    True: ("i iv i V", "i VI iv V", "i VII VI V", "i iv VI V", "i III iv V"),
}
CIRCLES = {False: "I IV vii iii vi ii V7 I", True: "i iv VII III VI ii V7 i"}

# Rhythms of one pulse (a quarter in simple meters, a dotted quarter in compound ones): "r" is a rest,
# "t" an eighth of a triplet. Weights for calm, flowing and busy sections.
SIMPLE_PULSES = {"12": (6, 3, 1), "6 6": (3, 5, 4), "9 3": (1, 2, 1), "3 3 6": (0, 1, 2), "6 3 3": (0, 1, 2),
                 "3 3 3 3": (0, 0.5, 3), "t4 t4 t4": (0.15, 0.3, 0.4), "r6 6": (0.3, 0.4, 0.3)}
SIMPLE_PAIRS = {"24": (3, 1.2, 0.3), "18 6": (1.5, 1.5, 0.5)}
COMPOUND_PULSES = {"18": (5, 2, 1), "12 6": (3, 3, 2), "6 6 6": (2, 4, 4), "9 3 6": (0.5, 1, 1),
                   "6 3 3 6": (0, 0.6, 1.5), "3 3 3 3 6": (0, 0.3, 1.5), "r6 6 6": (0.3, 0.4, 0.3),
                   "6 12": (0.5, 0.5, 0.3)}
COMPOUND_PAIRS = {"36": (2, 1, 0.3)}

RIGHT_TEXTURES = ("melody", "melody_chords", "thirds", "octaves", "two_voices", "scales", "arpeggios", "chords")
LEFT_TEXTURES = ("alberti", "stride", "block", "broken", "sustained", "walking", "octave_bass", "melody")
RIGHT_WEIGHTS = (3, 3, 1.5, 1, 1.5, 1, 1, 0.8)
LEFT_WEIGHTS = (2, 2, 2, 2, 1.5, 1, 1, 0)  # "melody" comes only with right-hand "chords"


@dataclass(frozen=True)
class ComposedPiece:
    """A composed piece: its title, MusicXML text, seed and the choices made.

    `params`: the opening `key` (fifths), `minor`, `key_name`, `meter`, `tempo` (quarter notes a minute, as in
    the score's <sound tempo>), `tempo_mark`, `measures`, `form` (section letters), `sections` (each one's
    label, first measure, length, repeat, key and textures), `textures` ((right, left) per section), and counts
    of `repeats` (repeated sections), `key_changes` (sections in another key than the one before) and
    `clef_changes`.
    """

    title: str
    musicxml: str
    seed: int
    params: dict = field(default_factory=dict, hash=False)


def compose_piece(seed: int, measures: int | None = None) -> ComposedPiece:
    """A deterministic two-staff piano piece for `seed`: about 1-4 pages, or `measures` bars if given."""
    rng = random.Random(f"sheetsync-compose:{seed}")
    meter = Meter.parse(_weighted(rng, METERS))
    home = Key(_weighted(rng, KEY_WEIGHTS), rng.random() < 0.38)
    beat_bpm, quarter_bpm = _tempo(rng, meter)
    if measures is None:
        measures = _default_length(rng, meter)
    if measures < 1:
        raise ValueError(f"a piece needs at least one measure, not {measures}")
    plans = _plan_sections(rng, seed, measures, meter, home, quarter_bpm)
    bars = [bar for plan in plans for bar in _SectionComposer(plan, meter, final=plan is plans[-1]).bars()]
    clef_changes = _assign_clefs(bars)
    _mark_sections(bars, plans)
    bars[0].directions[1].insert(0, (0, _tempo_direction(meter, beat_bpm, quarter_bpm)))
    title = f"{_title_word(rng, meter, plans[0], _felt_bpm(meter, beat_bpm))} in {home.name}"
    xml = _document(title, [_measure_xml(i + 1, bar, meter, first=i == 0) for i, bar in enumerate(bars)])
    params = {
        "key": home.fifths, "minor": home.minor, "key_name": home.name, "meter": meter.text,
        "tempo": quarter_bpm, "tempo_mark": _tempo_mark(meter, beat_bpm), "measures": measures,
        "form": "".join(plan.label for plan in plans),
        "sections": [plan.describe() for plan in plans],
        "textures": [(plan.right, plan.left) for plan in plans],
        "repeats": sum(plan.repeat for plan in plans),
        "key_changes": sum(a.key != b.key for a, b in zip(plans, plans[1:])),
        "clef_changes": clef_changes,
    }
    return ComposedPiece(title, xml, seed, params)


# ---------------------------------------------------------------------------------------------- keys and meters


@dataclass(frozen=True)
class Key:
    """A key signature (`fifths`: sharps > 0, flats < 0) and mode."""

    fifths: int
    minor: bool

    @property
    def tonic(self) -> int:
        return (7 * self.fifths + (9 if self.minor else 0)) % 12

    @property
    def tonic_letter(self) -> int:
        return (4 * self.fifths + (5 if self.minor else 0)) % 7

    @property
    def name(self) -> str:
        step, alter = spell(self.tonic + 60, self)[:2]
        accidental = {-1: "-flat", 0: "", 1: "-sharp"}[alter]
        return f"{step}{accidental} {'minor' if self.minor else 'major'}"

    def degree_pc(self, degree: int, raised: bool = False) -> int:
        """Pitch class of a scale degree (0 = tonic); `raised` sharpens minor's sixth and seventh."""
        degree %= 7
        steps = MINOR_STEPS if self.minor else MAJOR_STEPS
        lift = 1 if raised and self.minor and degree in (5, 6) else 0
        return (self.tonic + steps[degree] + lift) % 12

    def scale(self, raised: bool = False) -> frozenset[int]:
        return frozenset(self.degree_pc(d, raised) for d in range(7))

    def chord(self, numeral: str) -> tuple[int, ...]:
        """Pitch classes (root first) of a Roman numeral in this key."""
        degree, raised, seventh = CHORDS[self.minor][numeral]
        return tuple(self.degree_pc(degree + k, raised) for k in ((0, 2, 4, 6) if seventh else (0, 2, 4)))


@lru_cache(maxsize=None)
def _spellings(key: Key) -> dict[int, tuple[int, int]]:
    """(letter index, alteration) for each pitch class in `key`: scale degrees by their letter."""
    table: dict[int, tuple[int, int]] = {}
    for raised in (False, True):
        for degree in range(7):
            pc = key.degree_pc(degree, raised)
            letter = (key.tonic_letter + degree) % 7
            table.setdefault(pc, (letter, _wrap(pc - NATURAL_PCS[letter])))
    sharpward = 1 if key.fifths >= 0 else -1
    for pc in range(12):  # chromatic notes: naturals, else sharps in sharp keys and flats in flat keys
        if pc not in table:
            options = [(letter, _wrap(pc - NATURAL_PCS[letter])) for letter in range(7)]
            table[pc] = min(options, key=lambda option: (abs(option[1]), option[1] != sharpward))
    return table


def _wrap(semitones: int) -> int:
    return (semitones + 6) % 12 - 6


def spell(pitch: int, key: Key) -> tuple[str, int, int]:
    """(step, alter, octave) of a MIDI pitch as written in `key`."""
    letter, alter = _spellings(key)[pitch % 12]
    return LETTERS[letter], alter, (pitch - alter) // 12 - 1


def _signature_alter(step: str, fifths: int) -> int:
    if fifths > 0 and step in SHARP_ORDER[:fifths]:
        return 1
    if fifths < 0 and step in FLAT_ORDER[:-fifths]:
        return -1
    return 0


@dataclass(frozen=True)
class Meter:
    """A time signature and how it is felt: pulses (quarters or dotted quarters) and beam groups."""

    beats: int
    beat_type: int

    @classmethod
    def parse(cls, text: str) -> Meter:
        beats, beat_type = text.split("/")
        return cls(int(beats), int(beat_type))

    @property
    def text(self) -> str:
        return f"{self.beats}/{self.beat_type}"

    @property
    def compound(self) -> bool:
        return self.beat_type == 8 and self.beats % 3 == 0

    @property
    def length(self) -> int:
        return self.beats * DIVISIONS * 4 // self.beat_type

    @property
    def pulse(self) -> int:
        return 18 if self.compound else 12

    @property
    def pulses(self) -> int:
        return self.length // self.pulse

    @property
    def beam_group(self) -> int:
        return 24 if self.text == "2/2" else self.pulse


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _tempo(rng: random.Random, meter: Meter) -> tuple[int, int]:
    """(beats a minute of the marked unit, quarter notes a minute)."""
    if meter.text == "3/8":
        eighths = rng.randrange(100, 200, 4)
        return eighths, eighths // 2
    if meter.compound:
        dotted = rng.randrange(44, 112, 2)
        return dotted, dotted * 3 // 2
    quarters = rng.randrange(56, 172, 2) if meter.text != "2/2" else rng.randrange(120, 200, 4)
    return quarters, quarters


def _default_length(rng: random.Random, meter: Meter) -> int:
    """Bars for 1-4 pages: fewer of the long meters, so that pages (not bars) are what varies."""
    pages = rng.choice((0.9, 1.5, 2, 2, 2.5, 3, 3.5, 3.9))
    return max(8, min(96, round(pages * BARS_PER_PAGE[meter.text] / 4) * 4))


def _felt_bpm(meter: Meter, beat_bpm: int) -> int:
    """How fast the piece feels, comparable across meters: dotted-quarter beats count as quicker."""
    return beat_bpm * 3 // 2 if meter.compound and meter.text != "3/8" else beat_bpm


def _tempo_word(meter: Meter, beat_bpm: int) -> str:
    return next(word for limit, word in TEMPO_WORDS if _felt_bpm(meter, beat_bpm) < limit)


def _tempo_mark(meter: Meter, beat_bpm: int) -> str:
    unit = "\u266a" if meter.text == "3/8" else "\u2669." if meter.compound else "\u2669"
    return f"{unit} = {beat_bpm}"


# ----------------------------------------------------------------------------------------------- section plans


@dataclass
class SectionPlan:
    """What one section will be: where it lies, its key, textures and character."""

    label: str
    start: int
    length: int
    repeat: bool
    key: Key
    right: str
    left: str
    density: int  # 0 calm, 1 flowing, 2 busy
    style: str  # "legato" (slurs), "staccato" or "plain"
    dynamic: int  # index into DYNAMICS
    pedal: bool
    material_seed: str  # a return of a section reuses its seed and so its music
    quarter_bpm: int

    def describe(self) -> dict:
        return {"label": self.label, "start": self.start + 1, "measures": self.length, "repeat": self.repeat,
                "key": self.key.fifths, "minor": self.key.minor, "right": self.right, "left": self.left}


def _plan_sections(rng: random.Random, seed: int, measures: int, meter: Meter, home: Key,
                   quarter_bpm: int) -> list[SectionPlan]:
    lengths = _section_lengths(rng, measures)
    labels = _form(rng, len(lengths))
    plans: list[SectionPlan] = []
    start = 0
    for index, (length, label) in enumerate(zip(lengths, labels)):
        earlier = next((p for p in plans if p.label == label), None)
        if earlier is not None:  # a return: the same music when the length allows
            plan = SectionPlan(label, start, length, False, earlier.key, earlier.right, earlier.left,
                               earlier.density, earlier.style, earlier.dynamic, earlier.pedal,
                               earlier.material_seed, quarter_bpm)
        else:
            ending = index == len(lengths) - 1
            key = home if index == 0 or ending else _section_key(rng, plans[-1].key, home)
            right, left = _textures(rng, meter)
            if plans and (right, left) == (plans[-1].right, plans[-1].left):
                right, left = _textures(rng, meter)  # a new section should sound new
            repeat = length >= 4 and rng.random() < (0.45 if len(lengths) <= 3 else 0.3)
            pedal = left in ("broken", "alberti", "sustained", "block") and rng.random() < 0.35
            plan = SectionPlan(label, start, length, repeat, key, right, left, _density(rng, quarter_bpm),
                               rng.choice(("legato", "legato", "staccato", "plain")), rng.randrange(1, 6), pedal,
                               f"{seed}:{index}", quarter_bpm)
        plans.append(plan)
        start += length
    return plans


def _section_lengths(rng: random.Random, measures: int) -> list[int]:
    """Sections of 8 or 16 bars (four-bar phrases); the last one takes what is left."""
    lengths, remaining = [], measures
    long_chance = 0.7 if measures >= 48 else 0.25
    while remaining > 0:
        length = 16 if remaining >= 24 and rng.random() < long_chance else 8
        if remaining - length < 4:
            length = remaining
        lengths.append(length)
        remaining -= length
    return lengths


def _form(rng: random.Random, sections: int) -> list[str]:
    """Section letters: new material, or a return of A (rondo-like) or B; never the same twice in a row."""
    labels = ["A"]
    for index in range(1, sections):
        last = index == sections - 1
        if index >= 2 and (last or index % 2 == 0) and rng.random() < 0.7:
            label = "A"
        elif index >= 3 and rng.random() < 0.3:
            label = "B"
        else:
            label = chr(ord("A") + len(set(labels)))
        labels.append(label if label != labels[-1] else chr(ord("A") + len(set(labels))))
    return labels


def _section_key(rng: random.Random, previous: Key, home: Key) -> Key:
    """The home key mostly; otherwise a neighbour: dominant, subdominant, relative or parallel."""
    if rng.random() < 0.55:
        return home
    parallel = Key(home.fifths + (3 if home.minor else -3), not home.minor)
    options = [Key(home.fifths + 1, home.minor), Key(home.fifths - 1, home.minor), Key(home.fifths, not home.minor),
               parallel]
    options = [k for k in options if abs(k.fifths) <= 6 and k != previous]
    return rng.choice(options) if options else home


def _textures(rng: random.Random, meter: Meter) -> tuple[str, str]:
    right = rng.choices(RIGHT_TEXTURES, weights=RIGHT_WEIGHTS)[0]
    if right == "chords":
        return right, "melody"
    left = rng.choices(LEFT_TEXTURES, weights=LEFT_WEIGHTS)[0]
    if left == "walking" and meter.compound:
        left = "broken"
    if right in ("scales", "arpeggios") and left in ("alberti", "walking"):
        left = rng.choice(("block", "sustained", "stride", "octave_bass"))
    return right, left


def _density(rng: random.Random, quarter_bpm: int) -> int:
    weights = (0.2, 0.4, 0.4) if quarter_bpm < 84 else (0.3, 0.45, 0.25) if quarter_bpm < 126 else (0.5, 0.42, 0.08)
    return rng.choices((0, 1, 2), weights=weights)[0]


def _title_word(rng: random.Random, meter: Meter, first: SectionPlan, felt_bpm: int) -> str:
    if meter.text == "3/4":
        kinds = ("Waltz", "Minuet") if first.left == "stride" else ("Minuet", "Sarabande", "Bagatelle")
    elif meter.compound:
        kinds = ("Barcarolle", "Siciliano", "Pastorale") if felt_bpm < 100 else ("Gigue", "Tarantella", "Rondo")
    elif first.right in ("scales", "arpeggios"):
        kinds = ("Etude", "Study", "Toccatina")
    elif first.left in ("octave_bass", "stride") and felt_bpm >= 100:
        kinds = ("March", "Ecossaise", "Rondo")
    elif felt_bpm < 90:
        kinds = ("Romance", "Nocturne", "Song without Words", "Prelude")
    else:
        kinds = ("Sonatina", "Bagatelle", "Impromptu", "Invention", "Album Leaf")
    return f"{rng.choice(kinds)} No. {rng.randrange(1, 40)}"


# ------------------------------------------------------------------------------------------------ bars and notes


@dataclass
class Note:
    """A note, chord or rest (no pitches) of one voice; `duration` in divisions."""

    duration: int
    pitches: tuple[int, ...] = ()
    tie_start: bool = False
    tie_stop: bool = False
    triplet: bool = False
    articulation: str | None = None  # staccato, accent, tenuto
    slur: str | None = None  # start, stop
    fermata: bool = False


@dataclass
class Bar:
    """One measure of both hands, before it is written: voices per staff, directions per staff."""

    key: Key
    phrase: int  # the index of the phrase's first bar in the piece
    right: list[list[Note]]
    left: list[list[Note]]
    directions: dict[int, list[tuple[int, str]]] = field(default_factory=lambda: {1: [], 2: []})
    clefs: dict[int, str] = field(default_factory=dict)
    key_change: bool = False
    repeat_start: bool = False
    repeat_end: bool = False
    double_bar: bool = False
    final: bool = False


@dataclass(frozen=True)
class Slot:
    """A rhythmic place in a bar: start, duration, rest or note, part of a triplet."""

    start: int
    duration: int
    rest: bool = False
    triplet: bool = False


def _parse_pattern(text: str) -> tuple[tuple[int, bool, bool], ...]:
    out = []
    for token in text.split():
        rest, triplet = token.startswith("r"), token.startswith("t")
        out.append((int(token.lstrip("rt")), rest, triplet))
    return tuple(out)


PATTERNS = {name: {_parse_pattern(k): w for k, w in table.items()} for name, table in
            (("simple", SIMPLE_PULSES), ("simple_pairs", SIMPLE_PAIRS), ("compound", COMPOUND_PULSES),
             ("compound_pairs", COMPOUND_PAIRS))}


def _pattern_slots(patterns: list[tuple[tuple[int, bool, bool], ...]]) -> list[Slot]:
    slots, time = [], 0
    for pattern in patterns:
        for duration, rest, triplet in pattern:
            slots.append(Slot(time, duration, rest, triplet))
            time += duration
    return slots


def _split_held(total: int) -> list[int]:
    """Durations that write `total` as tied notes, longest first."""
    parts = []
    for value in sorted(NOTE_TYPES, reverse=True):
        while total >= value:
            parts.append(value)
            total -= value
    return parts


def _held(total: int, pitches: tuple[int, ...], **marks) -> list[Note]:
    notes = [Note(d, pitches) for d in _split_held(total)]
    for before, after in zip(notes, notes[1:]):
        before.tie_start = after.tie_stop = True
    for name, value in marks.items():
        setattr(notes[0], name, value)
    return notes


def _above(pc: int, low: int) -> int:
    """The lowest pitch at or above `low` with pitch class `pc`."""
    return low + (pc - low) % 12


def _closed(pcs, low: int) -> tuple[int, ...]:
    """A closed voicing of `pcs` (in this order, bottom up) starting at or above `low`."""
    pitches = [_above(pcs[0], low)]
    for pc in pcs[1:]:
        pitches.append(_above(pc, pitches[-1] + 1))
    return tuple(pitches)


def _voicing_near(pcs, centre: float) -> tuple[int, ...]:
    """The closed triad (root, third, fifth in some inversion) whose middle lies nearest `centre`."""
    triad = list(pcs[:3])
    options = []
    for turn in range(len(triad)):
        order = triad[turn:] + triad[:turn]
        for low in (int(centre) - 12, int(centre) - 6):
            voicing = _closed(order, low)
            options.append((abs(sum(voicing) / len(voicing) - centre), voicing))
    return min(options)[1]


# ---------------------------------------------------------------------------------------------- the composition


class _Line:
    """A melodic line: mostly steps, chord tones on strong beats, a contour that rises and falls."""

    def __init__(self, rng: random.Random, low: int, high: int):
        self.rng, self.low, self.high = rng, low, high
        self.pitch = rng.randint(low + 3, high - 5)
        self.direction = 1

    def shift(self, semitones: int) -> None:
        self.low, self.high, self.pitch = self.low + semitones, self.high + semitones, self.pitch + semitones

    def next(self, allowed: frozenset[int] | tuple[int, ...], strong: bool) -> int:
        if self.pitch <= self.low + 2:
            self.direction = 1
        elif self.pitch >= self.high - 2:
            self.direction = -1
        elif self.rng.random() < 0.15:
            self.direction = -self.direction
        candidates, weights = [], []
        for pitch in range(max(self.low, self.pitch - 12), min(self.high, self.pitch + 12) + 1):
            if pitch % 12 in allowed:
                step = pitch - self.pitch
                candidates.append(pitch)
                weights.append(_interval_weight(step, strong) * (1.7 if step * self.direction > 0 else 1.0))
        if not candidates:
            return self.land(allowed)
        self.pitch = self.rng.choices(candidates, weights=weights)[0]
        return self.pitch

    def land(self, pcs) -> int:
        """The nearest pitch of `pcs` (lower on a tie): where a phrase comes to rest."""
        candidates = [p for p in range(self.low - 2, self.high + 3) if p % 12 in pcs]
        self.pitch = min(candidates, key=lambda p: (abs(p - self.pitch), p))
        return self.pitch


def _interval_weight(step: int, strong: bool) -> float:
    size = abs(step)
    if size == 0:
        return 0.25
    if size <= 2:
        return 4.0
    if size <= 4:
        return 2.0 if strong else 1.0
    if size <= 7:
        return 0.8 if strong else 0.2
    return 0.25 if strong else 0.02


class _SectionComposer:
    """Composes the bars of one section from its plan; its own seed makes a returning section identical."""

    def __init__(self, plan: SectionPlan, meter: Meter, final: bool):
        self.plan, self.meter, self.final = plan, meter, final
        self.rng = random.Random(f"sheetsync-section:{plan.material_seed}")
        self.key = plan.key
        rng = self.rng
        centre = rng.randint(67, 75)
        self.melody = _Line(rng, centre - 8, centre + 9)
        self.left_line = _Line(rng, 43, 62)
        self.bass_low = rng.choice((36, 38, 40, 41, 43))
        self.run_unit = 3 if meter.pulse == 12 and plan.quarter_bpm <= 108 and rng.random() < 0.6 else 6
        self.block_rhythm = rng.choice(("pulse", "bar", "repeated"))
        self.chord_rhythm = rng.choice(("pulse", "repeated", "offbeat"))
        self.harmony_notes = rng.choice((1, 2))
        self.parallel = rng.choice((3, 3, 6))  # thirds or sixths below the melody
        self.pending_tie: int | None = None

    # ------------------------------------------------------------------ structure

    def bars(self) -> list[Bar]:
        numerals = self._progression()
        phrase_lengths = [min(4, self.plan.length - i) for i in range(0, self.plan.length, 4)]
        bars: list[Bar] = []
        rhythms: dict[int, list[list[Slot]]] = {}
        start = 0
        for phrase, length in enumerate(phrase_lengths):
            right_shift, left_shift = self._phrase_registers()
            self.melody.shift(right_shift)
            self.left_line.shift(left_shift)
            reuse = rhythms.get(phrase - 1) if phrase % 2 == 1 and self.rng.random() < 0.6 else None
            phrase_rhythms = []
            for bar_in_phrase in range(length):
                index = start + bar_in_phrase
                cadence = bar_in_phrase == length - 1
                is_final = self.final and index == self.plan.length - 1
                if reuse is not None and bar_in_phrase < len(reuse) and not is_final:
                    rhythm = reuse[bar_in_phrase]
                else:
                    rhythm = self._bar_rhythm(cadence, phrase_rhythms)
                phrase_rhythms.append(rhythm)
                chord = self.key.chord(numerals[index])
                next_chord = self.key.chord(numerals[min(index + 1, len(numerals) - 1)])
                bars.append(self._bar(self.plan.start + start, numerals[index], chord, next_chord, rhythm, cadence,
                                      is_final, left_shift, tie_allowed=not cadence and bar_in_phrase < length - 2))
            rhythms[phrase] = phrase_rhythms
            self.melody.shift(-right_shift)
            self.left_line.shift(-left_shift)
            self._phrase_marks(bars[start:start + length], phrase)
            start += length
        self._section_marks(bars)
        return bars

    def _progression(self) -> list[str]:
        """One numeral a bar: half and full cadences in turn, sometimes a circle of fifths; ends on the tonic."""
        minor, numerals, remaining = self.key.minor, [], self.plan.length
        while remaining > 0:
            if remaining >= 8 and self.rng.random() < 0.2:
                numerals += CIRCLES[minor].split()
            elif remaining > 4 and len(numerals) % 8 == 0:
                numerals += self.rng.choice(HALF_CADENCES[minor]).split()
            else:
                numerals += self.rng.choice(FULL_CADENCES[minor]).split()[-min(4, remaining):]
            remaining = self.plan.length - len(numerals)
        return numerals[:self.plan.length]

    def _phrase_registers(self) -> tuple[int, int]:
        """Occasionally the right hand drops into the bass clef or the left climbs into the treble."""
        right, left = self.plan.right, self.plan.left
        roll = self.rng.random()
        if roll < 0.04 and right in ("melody", "melody_chords", "thirds", "two_voices") and left != "melody":
            return -17, 0
        if roll > 0.955 and left in ("alberti", "broken", "block", "melody"):
            return 5, 12 if left == "melody" else 53 - self.bass_low
        return 0, 0

    # ------------------------------------------------------------------ rhythm

    def _bar_rhythm(self, cadence: bool, earlier: list[list[Slot]]) -> list[Slot]:
        if earlier and not cadence and self.rng.random() < 0.45:
            return earlier[0]  # a motif: the phrase's first rhythm again
        meter, density = self.meter, self.plan.density
        simple = "compound" if meter.compound else "simple"
        pulses, pairs = PATTERNS[simple], PATTERNS[simple + "_pairs"]
        if cadence:
            return self._cadence_rhythm(pulses, density)
        patterns, remaining = [], meter.pulses
        while remaining:
            if remaining >= 2 and self.rng.random() < 0.3:
                patterns.append(self._choose(pairs, density))
                remaining -= 2
            else:
                patterns.append(self._choose(pulses, density))
                remaining -= 1
        return _pattern_slots(patterns)

    def _cadence_rhythm(self, pulses: dict, density: int) -> list[Slot]:
        """Some motion, then a long note (sometimes followed by a breath) to close the phrase."""
        meter = self.meter
        options = [k for k in range(meter.pulses) if (meter.pulses - k) * meter.pulse in NOTE_TYPES]
        moving = self.rng.choice(options)
        patterns = [self._choose(pulses, density) for _ in range(moving)]
        held = (meter.pulses - moving) * meter.pulse
        if held >= 2 * meter.pulse and held - meter.pulse in NOTE_TYPES and self.rng.random() < 0.35:
            patterns += [((held - meter.pulse, False, False),), ((meter.pulse, True, False),)]
        else:
            patterns.append(((held, False, False),))
        slots = _pattern_slots(patterns)
        if slots[0].rest:
            slots[0] = Slot(0, slots[0].duration)
        return slots

    def _choose(self, table: dict, density: int):
        patterns = list(table)
        return self.rng.choices(patterns, weights=[table[p][density] for p in patterns])[0]

    # ------------------------------------------------------------------ one bar

    def _bar(self, phrase: int, numeral: str, chord, next_chord, rhythm: list[Slot], cadence: bool,
             is_final: bool, left_shift: int, tie_allowed: bool) -> Bar:
        raised = self.key.minor and numeral in ("V", "V7", "vii")
        scale = self.key.scale(raised)
        if is_final:
            right, left = self._final_right(chord), self._final_left(chord)
        else:
            right = self._right(rhythm, chord, scale, cadence, numeral, tie_allowed)
            left = self._left(rhythm, chord, next_chord, scale, left_shift)
        return Bar(self.key, phrase, right, left)

    def _right(self, rhythm, chord, scale, cadence, numeral, tie_allowed) -> list[list[Note]]:
        texture = self.plan.right
        if texture in ("scales", "arpeggios") and not cadence:
            return [self._run(chord, scale, arpeggio=texture == "arpeggios")]
        if texture == "chords":
            return [self._chords(chord)]
        line = self._melody(rhythm, chord, scale, cadence, numeral, tie_allowed)
        if texture == "melody_chords":
            return [self._add_harmony(line, chord)]
        if texture == "thirds":
            return [self._add_parallel(line, scale)]
        if texture == "octaves":
            return [[_with_pitches(n, (n.pitches[0] - 12, n.pitches[0])) if n.pitches and n.pitches[0] >= 57 else n
                     for n in line]]
        if texture == "two_voices":
            return [line, self._lower_voice(line, chord)]
        return [line]

    def _melody(self, rhythm, chord, scale, cadence, numeral, tie_allowed) -> list[Note]:
        notes = []
        for index, slot in enumerate(rhythm):
            if slot.rest and not (index == 0 and self.pending_tie is not None):
                notes.append(Note(slot.duration, triplet=slot.triplet))
                continue
            strong = slot.start % self.meter.pulse == 0
            if index == 0 and self.pending_tie is not None:  # even where the rhythm had a rest
                pitch = self.pending_tie
                notes.append(Note(slot.duration, (pitch,), tie_stop=True, triplet=slot.triplet))
                continue
            if cadence and index == len(rhythm) - 1 - (rhythm[-1].rest and len(rhythm) > 1):
                pitch = self.melody.land(self._cadence_tones(chord, numeral))
            else:
                pitch = self.melody.next(chord if strong else scale, strong)
            notes.append(Note(slot.duration, (pitch,), triplet=slot.triplet))
        self.pending_tie = None
        last = notes[-1]
        if tie_allowed and last.pitches and not last.triplet and not last.tie_stop and self.rng.random() < 0.12:
            last.tie_start = True
            self.pending_tie = last.pitches[0]
        return notes

    def _cadence_tones(self, chord, numeral: str) -> tuple[int, ...]:
        if numeral in ("I", "i"):
            return (chord[0],) if self.rng.random() < 0.6 else chord[:2]
        return chord[:3]

    def _add_harmony(self, line: list[Note], chord) -> list[Note]:
        """Chord tones under the melody's notes on the beats: melody over chords."""
        out, time = [], 0
        for note in line:
            if note.pitches and time % self.meter.pulse == 0 and note.duration >= 6 and not _tied(note):
                top = note.pitches[0]
                below = [p for p in range(top - 9, top - 2) if p % 12 in chord][-self.harmony_notes:]
                note = _with_pitches(note, tuple(below) + (top,))
            out.append(note)
            time += note.duration
        return out

    def _add_parallel(self, line: list[Note], scale) -> list[Note]:
        ladder = [p for p in range(LOWEST, HIGHEST + 1) if p % 12 in scale]
        steps = 2 if self.parallel == 3 else 5
        out = []
        for note in line:
            if note.pitches and note.pitches[0] in ladder and not _tied(note):
                position = ladder.index(note.pitches[0])
                note = _with_pitches(note, (ladder[max(0, position - steps)], note.pitches[0]))
            out.append(note)
        return out

    def _lower_voice(self, line: list[Note], chord) -> list[Note]:
        """A slower second voice under the melody, on chord tones, kept below it."""
        meter = self.meter
        span = next(s for s in (meter.length, 2 * meter.pulse, meter.pulse) if s in NOTE_TYPES and
                    meter.length % s == 0)
        voice, previous = [], self.melody.pitch - 7
        for start in range(0, meter.length, span):
            ceiling = min((p for note, at in _timed(line) if at < start + span and at + note.duration > start
                           for p in note.pitches), default=self.melody.pitch) - 3
            floor = min(max(ceiling - 9, 55), ceiling - 3)  # below the melody, above the treble staff's ledgers
            options = [p for p in range(floor, max(floor, ceiling) + 1) if p % 12 in chord]
            options = options or [_above(chord[0], floor)]
            previous = min(options, key=lambda p: abs(p - previous))
            voice.append(Note(span, (previous,)))
        return voice

    def _run(self, chord, scale, arpeggio: bool) -> list[Note]:
        """Scale or broken-chord figuration across the bar, turning at the edges of its range."""
        tones = chord if arpeggio else scale
        ladder = [p for p in range(55, 89) if p % 12 in tones]
        position = min(range(len(ladder)), key=lambda i: abs(ladder[i] - self.melody.pitch))
        direction = self.melody.direction if self.rng.random() < 0.7 else -self.melody.direction
        notes = []
        for _ in range(self.meter.length // self.run_unit):
            if not 0 <= position + direction < len(ladder):
                direction = -direction
            position += direction
            notes.append(Note(self.run_unit, (ladder[position],)))
        self.melody.pitch, self.melody.direction = ladder[position], direction
        self.melody.pitch = min(max(self.melody.pitch, self.melody.low), self.melody.high)
        return notes

    def _chords(self, chord) -> list[Note]:
        """Right-hand chords accompanying a left-hand melody."""
        voicing = _voicing_near(chord, 67)
        meter, style = self.meter, self.chord_rhythm
        notes = []
        for _ in range(meter.pulses):
            if style == "pulse":
                notes.append(Note(meter.pulse, voicing))
            elif style == "repeated":
                notes += [Note(6, voicing, articulation="staccato") for _ in range(meter.pulse // 6)]
            else:
                notes += [Note(6)] + [Note(6, voicing) for _ in range(meter.pulse // 6 - 1)]
        return notes

    def _final_right(self, chord) -> list[list[Note]]:
        top = self.melody.land((chord[0],))
        below = tuple(p for p in range(top - 9, top) if p % 12 in chord[:3])[-2:]
        return [_held(self.meter.length, below + (top,), fermata=True)]

    def _final_left(self, chord) -> list[list[Note]]:
        bass = _above(chord[0], self.bass_low)
        return [_held(self.meter.length, (bass, bass + 12))]

    # ------------------------------------------------------------------ left hand

    def _left(self, rhythm, chord, next_chord, scale, shift: int) -> list[list[Note]]:
        texture, meter = self.plan.left, self.meter
        bass = _above(chord[0], self.bass_low + shift)
        upper = _closed(chord[:3], bass if shift else bass + 12)
        if texture == "alberti":
            low, middle, high = upper
            return [_cycle((low, high, middle, high), 6 if self.run_unit == 6 or meter.compound else 3, meter)]
        if texture == "broken":
            return [self._broken(bass, chord)]
        if texture == "stride":
            return [self._stride(bass, chord)]
        if texture == "block":
            return [self._block(bass, chord, 54 + shift)]
        if texture == "sustained":
            octave = (bass - 12, bass) if bass - 12 >= 31 else (bass, bass + 12)
            return [_held(meter.length, octave)]
        if texture == "walking":
            return [self._walking(bass, next_chord, scale)]
        if texture == "octave_bass":
            fifth = _above(chord[2], bass - 12)
            pair = ((bass - 12, bass), (fifth - 12, fifth) if fifth - 12 >= 28 else (fifth, fifth + 12))
            return [[Note(meter.pulse, pair[i % 2], articulation="accent" if i == 0 else None)
                     for i in range(meter.pulses)]]
        return [self._left_melody(rhythm, chord, scale)]

    def _broken(self, bass: int, chord) -> list[Note]:
        fifth = _above(chord[2], bass + 1)
        third = _above(chord[1], bass + 12)
        rising = (bass, fifth, bass + 12, third)
        shape = rising + rising[-2:0:-1]  # up and back down
        return _cycle(shape, 6, self.meter)

    def _stride(self, bass: int, chord) -> list[Note]:
        """Oom-pah: the bass, then chords on the other beats (eighths within each compound pulse)."""
        voicing = _voicing_near(chord, 55)
        meter = self.meter
        if meter.compound:
            return [Note(6, (bass,) if i % 3 == 0 else voicing, articulation=None if i % 3 == 0 else "staccato")
                    for i in range(meter.length // 6)]
        beats = meter.length // 12
        strong = {0, 2} if beats == 4 else {0, 3} if beats == 5 else {0}
        return [Note(12, (bass,) if i in strong else voicing, articulation=None if i in strong else "staccato")
                for i in range(beats)]

    def _block(self, bass: int, chord, centre: int) -> list[Note]:
        top = _voicing_near(chord, centre)
        voicing = tuple(sorted({bass} | set(p for p in top if p - bass <= 12 and p > bass)))
        meter = self.meter
        if self.block_rhythm == "bar":
            return _held(meter.length, voicing)
        if self.block_rhythm == "repeated":
            return [Note(6, voicing) for _ in range(meter.length // 6)]
        return [Note(meter.pulse, voicing) for _ in range(meter.pulses)]

    def _walking(self, bass: int, next_chord, scale) -> list[Note]:
        """Quarter notes walking by step (sometimes a third) to a note next to the next bar's root."""
        beats = self.meter.length // 12
        ladder = [p for p in range(26, 64) if p % 12 in scale or p % 12 == next_chord[0]]
        here = ladder.index(bass) if bass in ladder else len(ladder) // 2
        target = min((i for i, p in enumerate(ladder) if p % 12 == next_chord[0]), key=lambda i: abs(i - here))
        there = target - 1 if target > here else target + 1
        if there == here:
            there = target + (1 if target > here else -1)
        walk = [here]
        for move in range(1, beats):
            left = beats - 1 - move  # moves still to come after this one
            options = [s for s in (-2, -1, 1, 2) if _reachable(there - walk[-1] - s, left)]
            weights = [(2.0 if abs(s) == 1 else 0.5) * (1.5 if s * (there - walk[-1]) > 0 else 1.0) for s in options]
            walk.append(walk[-1] + self.rng.choices(options, weights=weights)[0])
        return [Note(12, (ladder[min(max(i, 0), len(ladder) - 1)],)) for i in walk]

    def _left_melody(self, rhythm, chord, scale) -> list[Note]:
        notes = []
        for slot in rhythm:
            if slot.rest:
                notes.append(Note(slot.duration, triplet=slot.triplet))
            else:
                strong = slot.start % self.meter.pulse == 0
                notes.append(Note(slot.duration, (self.left_line.next(chord if strong else scale, strong),),
                                  triplet=slot.triplet))
        return notes

    # ------------------------------------------------------------------ marks

    def _phrase_marks(self, bars: list[Bar], phrase: int) -> None:
        """Slurs or staccatos, a dynamic, a hairpin and pedal marks for one phrase."""
        rng = self.rng
        if self.plan.style == "legato":
            for first in range(0, len(bars), 2):
                _slur([bars[i].right[0] for i in range(first, min(first + 2, len(bars)))])
        elif self.plan.style == "staccato":
            for bar in bars:
                for note in bar.right[0]:
                    if note.pitches and note.duration <= 6 and not note.tie_start and not note.tie_stop:
                        note.articulation = note.articulation or "staccato"
        if rng.random() < 0.12:
            first = next((n for n in bars[0].right[0] if n.pitches and not n.tie_stop), None)
            if first is not None:
                first.articulation = rng.choice(("accent", "tenuto"))
        if phrase and rng.random() < 0.4:
            level = min(5, max(0, self.plan.dynamic + rng.choice((-1, 1))))
            bars[0].directions[1].append((0, _dynamic_direction(DYNAMICS[level])))
        if len(bars) >= 3 and rng.random() < 0.45:
            begin = rng.randrange(0, len(bars) - 2)
            end = begin + rng.randint(1, len(bars) - 1 - begin)
            kind = rng.choice(("crescendo", "diminuendo"))
            bars[begin].directions[1].append((0, _wedge_direction(kind)))
            bars[end].directions[1].append((0, _wedge_direction("stop")))
            if kind == "crescendo" and rng.random() < 0.5:
                bars[end].directions[1].append((0, _dynamic_direction(DYNAMICS[min(5, self.plan.dynamic + 1)])))
        if self.plan.pedal:
            for bar in bars:
                last_start = self.meter.length - bar.left[0][-1].duration
                bar.directions[2] += [(0, _pedal_direction("start")), (last_start, _pedal_direction("stop"))]

    def _section_marks(self, bars: list[Bar]) -> None:
        bars[0].directions[1].insert(0, (0, _dynamic_direction(DYNAMICS[self.plan.dynamic])))


def _with_pitches(note: Note, pitches: tuple[int, ...]) -> Note:
    return Note(note.duration, pitches, note.tie_start, note.tie_stop, note.triplet, note.articulation, note.slur,
                note.fermata)


def _tied(note: Note) -> bool:
    return note.tie_start or note.tie_stop


def _timed(notes: list[Note]):
    time = 0
    for note in notes:
        yield note, time
        time += note.duration


def _reachable(gap: int, moves: int) -> bool:
    """Whether `moves` steps of one or two scale degrees (never zero) can cover `gap` degrees."""
    if moves == 0:
        return gap == 0
    if moves == 1:
        return 0 < abs(gap) <= 2
    return abs(gap) <= 2 * moves


def _cycle(pitches, unit: int, meter: Meter) -> list[Note]:
    return [Note(unit, (pitches[i % len(pitches)],)) for i in range(meter.length // unit)]


def _slur(voices: list[list[Note]]) -> None:
    """A slur from the first to the last sounding note of consecutive bars, if they differ."""
    notes = [n for voice in voices for n in voice if n.pitches]
    if len(notes) >= 2 and notes[0].slur is None and notes[-1].slur is None:
        notes[0].slur, notes[-1].slur = "start", "stop"


# -------------------------------------------------------------------------------------- piece-level decisions


def _assign_clefs(bars: list[Bar]) -> int:
    """Clefs that follow each hand's register phrase by phrase; returns how many clef changes were written.

    A phrase changes clef when that saves enough ledger lines; each hand leans towards its usual clef.
    """
    current = {1: "G", 2: "F"}
    bars[0].clefs = dict(current)
    changes, start = 0, 0
    while start < len(bars):
        end = start
        while end < len(bars) and bars[end].phrase == bars[start].phrase:
            end += 1
        for staff, home in ((1, "G"), (2, "F")):
            pitches = [(p, bar.key) for bar in bars[start:end] for voice in (bar.right if staff == 1 else bar.left)
                       for note in voice for p in note.pitches]
            cost = {clef: sum(_ledger_lines(p, key, clef) for p, key in pitches) for clef in ("G", "F")}
            other = "F" if current[staff] == "G" else "G"
            margin = 2 * (end - start) + (0 if other == home else len(pitches) // 2)
            if cost[other] + margin < cost[current[staff]]:
                current[staff] = other
                bars[start].clefs[staff] = other
                changes += start > 0
        start = end
    return changes


def _ledger_lines(pitch: int, key: Key, clef: str) -> int:
    step, _, octave = spell(pitch, key)
    position = 7 * octave + LETTERS.index(step)  # diatonic steps from C0
    bottom, top = (30, 38) if clef == "G" else (18, 26)  # E4 and F5, G2 and A3
    return max(0, (bottom - position) // 2, (position - top) // 2)


def _mark_sections(bars: list[Bar], plans: list[SectionPlan]) -> None:
    """Repeat barlines (always both marks), double bars before key changes, key signatures, the final bar."""
    for index, plan in enumerate(plans):
        first, last = bars[plan.start], bars[plan.start + plan.length - 1]
        first.repeat_start = last.repeat_end = plan.repeat
        if index and plan.key.fifths != plans[index - 1].key.fifths:
            first.key_change = True
            bars[plan.start - 1].double_bar = not bars[plan.start - 1].repeat_end
    bars[-1].final = True


# ---------------------------------------------------------------------------------------------------- MusicXML


def _tempo_direction(meter: Meter, beat_bpm: int, quarter_bpm: int) -> str:
    # The metronome mark is written as text: verovio draws a <metronome>'s note with a SMuFL *text* font that
    # rasterisers without that font show as an empty box. <sound tempo> sets the timemap's tempo either way.
    word = _tempo_word(meter, beat_bpm)
    return (f'<direction placement="above"><direction-type><words font-weight="bold">{word}</words></direction-type>'
            f'<direction-type><words font-weight="normal"> ({_tempo_mark(meter, beat_bpm)})</words></direction-type>'
            f'<staff>1</staff><sound tempo="{quarter_bpm}"/></direction>')


def _dynamic_direction(mark: str) -> str:
    return (f'<direction placement="below"><direction-type><dynamics><{mark}/></dynamics></direction-type>'
            f'<staff>1</staff></direction>')


def _wedge_direction(kind: str) -> str:
    return (f'<direction placement="below"><direction-type><wedge type="{kind}" number="1"/></direction-type>'
            f'<staff>1</staff></direction>')


def _pedal_direction(kind: str) -> str:
    return (f'<direction placement="below"><direction-type><pedal type="{kind}" line="no"/></direction-type>'
            f'<staff>2</staff></direction>')


def _measure_xml(number: int, bar: Bar, meter: Meter, first: bool) -> str:
    parts = []
    if bar.repeat_start:
        parts.append('<barline location="left"><bar-style>heavy-light</bar-style><repeat direction="forward"/>'
                     '</barline>')
    parts.append(_attributes_xml(bar, meter, first))
    for staff, voices, numbers in ((1, bar.right, (1, 2)), (2, bar.left, (5, 6))):
        accidentals = _accidentals(voices, bar.key)
        for index, voice in enumerate(voices):
            if staff == 2 or index:
                parts.append(f"<backup><duration>{meter.length}</duration></backup>")
            if sum(n.duration for n in voice) != meter.length:
                raise AssertionError(f"measure {number}, staff {staff}: voice does not fill the bar")
            stem = None if len(voices) == 1 else ("up" if index == 0 else "down")
            parts += _voice_xml(voice, staff, numbers[index], bar.key, meter, accidentals[index], stem,
                                bar.directions[staff] if index == 0 else [])
    if bar.repeat_end:
        parts.append('<barline location="right"><bar-style>light-heavy</bar-style><repeat direction="backward"/>'
                     '</barline>')
    elif bar.final:
        parts.append('<barline location="right"><bar-style>light-heavy</bar-style></barline>')
    elif bar.double_bar:
        parts.append('<barline location="right"><bar-style>light-light</bar-style></barline>')
    return f'<measure number="{number}">{"".join(parts)}</measure>'


def _attributes_xml(bar: Bar, meter: Meter, first: bool) -> str:
    parts = [f"<divisions>{DIVISIONS}</divisions>"] if first else []
    if first or bar.key_change:
        parts.append(f"<key><fifths>{bar.key.fifths}</fifths><mode>{'minor' if bar.key.minor else 'major'}</mode>"
                     "</key>")
    if first:
        symbol = ' symbol="common"' if meter.text == "4/4" else ' symbol="cut"' if meter.text == "2/2" else ""
        parts.append(f"<time{symbol}><beats>{meter.beats}</beats><beat-type>{meter.beat_type}</beat-type></time>"
                     "<staves>2</staves>")
    for staff, sign in sorted(bar.clefs.items()):
        parts.append(f'<clef number="{staff}"><sign>{sign}</sign><line>{2 if sign == "G" else 4}</line></clef>')
    return f"<attributes>{''.join(parts)}</attributes>" if parts else ""


def _accidentals(voices: list[list[Note]], key: Key) -> list[list[list[str]]]:
    """For every pitch of every note, its written accidental ('' for none): bar-long, shared by the staff's voices."""
    events = sorted((time, v, i) for v, voice in enumerate(voices) for i, (_, time) in enumerate(_timed(voice)))
    result = [[[""] * len(note.pitches) for note in voice] for voice in voices]
    state: dict[tuple[str, int], int] = {}
    for _, v, i in events:
        note = voices[v][i]
        for k, pitch in enumerate(note.pitches):
            step, alter, octave = spell(pitch, key)
            current = state.get((step, octave), _signature_alter(step, key.fifths))
            if current != alter and not note.tie_stop:
                result[v][i][k] = {2: "double-sharp", 1: "sharp", 0: "natural", -1: "flat", -2: "flat-flat"}[alter]
            state[(step, octave)] = alter
    return result


def _voice_xml(voice: list[Note], staff: int, number: int, key: Key, meter: Meter, accidentals, stem: str | None,
               directions: list[tuple[int, str]]) -> list[str]:
    beams = _beams(voice, meter.beam_group)
    parts, triplets = [], 0
    pending = sorted(directions, key=lambda d: d[0])
    for (note, time), beam, note_accidentals in zip(_timed(voice), beams, accidentals):
        while pending and pending[0][0] <= time:
            parts.append(pending.pop(0)[1])
        tuplet = ""
        if note.triplet:
            tuplet = ('<tuplet type="start" bracket="no"/>' if triplets % 3 == 0 else
                      '<tuplet type="stop"/>' if triplets % 3 == 2 else "")
            triplets += 1
        parts.append(_note_xml(note, staff, number, key, beam, tuplet, note_accidentals, stem))
    parts += [d for _, d in pending]
    return parts


def _note_xml(note: Note, staff: int, voice: int, key: Key, beam: str, tuplet: str, accidentals: list[str],
              stem: str | None) -> str:
    kind, dots = ("eighth", 0) if note.triplet else NOTE_TYPES[note.duration]
    ties = ('<tie type="stop"/>' if note.tie_stop else "") + ('<tie type="start"/>' if note.tie_start else "")
    timing = (f"<duration>{note.duration}</duration>{ties}<voice>{voice}</voice><type>{kind}</type>"
              + "<dot/>" * dots)
    modification = ("<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes>"
                    "</time-modification>") if note.triplet else ""
    stem_xml = f"<stem>{stem}</stem>" if stem else ""
    if not note.pitches:
        return f"<note><rest/>{timing}{modification}<staff>{staff}</staff>{_notations([tuplet])}</note>"
    out = []
    for index, pitch in enumerate(note.pitches):
        step, alter, octave = spell(pitch, key)
        pitch_xml = (f"<pitch><step>{step}</step>{f'<alter>{alter}</alter>' if alter else ''}"
                     f"<octave>{octave}</octave></pitch>")
        accidental = f"<accidental>{accidentals[index]}</accidental>" if accidentals[index] else ""
        marks = [('<tied type="stop"/>' if note.tie_stop else "") + ('<tied type="start"/>' if note.tie_start else "")]
        if index == 0:
            marks += [tuplet, f'<slur type="{note.slur}" number="1"/>' if note.slur else "",
                      f"<articulations><{note.articulation}/></articulations>" if note.articulation else ""]
        if note.fermata and index == len(note.pitches) - 1:
            marks.append('<fermata type="upright"/>')
        out.append(f"<note>{'<chord/>' if index else ''}{pitch_xml}{timing}{accidental}{modification}{stem_xml}"
                   f"<staff>{staff}</staff>{beam if index == 0 else ''}{_notations(marks)}</note>")
    return "".join(out)


def _notations(marks: list[str]) -> str:
    content = "".join(marks)
    return f"<notations>{content}</notations>" if content else ""


def _beams(notes: list[Note], group_length: int) -> list[str]:
    """Beam elements joining the eighths and sixteenths inside each beam group; rests break a group."""
    beams, group, time = [""] * len(notes), [], 0

    def close():
        if len(group) >= 2 and all(notes[i].pitches and notes[i].duration < 12 for i in group):
            for position, i in enumerate(group):
                state = "begin" if position == 0 else "end" if position == len(group) - 1 else "continue"
                beams[i] = f'<beam number="1">{state}</beam>'
                if notes[i].duration == 3:
                    beams[i] += f'<beam number="2">{_second_beam(notes, group, position)}</beam>'
        group.clear()

    for index, note in enumerate(notes):
        if time % group_length == 0:
            close()
        group.append(index)
        time += note.duration
    close()
    return beams


def _second_beam(notes: list[Note], group: list[int], position: int) -> str:
    before = position > 0 and notes[group[position - 1]].duration == 3
    after = position < len(group) - 1 and notes[group[position + 1]].duration == 3
    if before and after:
        return "continue"
    if before:
        return "end"
    if after:
        return "begin"
    return "backward hook" if position else "forward hook"


def _document(title: str, measures: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">'
            '<score-partwise version="4.0">'
            f"<work><work-title>{title}</work-title></work>"
            '<identification><creator type="composer">sheetsync composer</creator></identification>'
            '<part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
            f'<part id="P1">{"".join(measures)}</part></score-partwise>')
