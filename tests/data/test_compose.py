"""The procedural piano composer: deterministic, valid two-staff MusicXML that verovio engraves, and varied."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

import pytest
import verovio

from sheetsync.data.compose import LEFT_TEXTURES, RIGHT_TEXTURES, Key, compose_piece, spell

STEP_PCS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
VARIETY_SEEDS = range(30)
XML_FEATURES = ("<tuplet", '<tie type="start"/>', "<type>16th</type>", "<dot/>", "<rest/>", "<wedge", "<dynamics>",
                "<staccato/>", "<accent/>", "<slur", "<pedal", "<fermata", "<chord/>", '<repeat direction="forward"/>')


@pytest.fixture(scope="module")
def pieces():
    return {seed: compose_piece(seed) for seed in VARIETY_SEEDS}


def first_seed(pieces, wanted) -> int:
    return next(seed for seed, piece in pieces.items() if wanted(piece.params))


def load(xml: str):
    """A verovio toolkit holding `xml`; the test stops here if verovio cannot load it (rendering would crash)."""
    toolkit = verovio.toolkit()
    assert toolkit.loadData(xml)
    return toolkit


def midi(note) -> int:
    pitch = note.find("pitch")
    return (12 * (int(pitch.findtext("octave")) + 1) + STEP_PCS[pitch.findtext("step")]
            + int(pitch.findtext("alter") or 0))


def bar_length(root) -> int:
    attributes = root.find("part/measure/attributes")
    divisions = int(attributes.findtext("divisions"))
    beats, beat_type = int(attributes.findtext("time/beats")), int(attributes.findtext("time/beat-type"))
    return beats * divisions * 4 // beat_type


def pitched_notes(measure) -> int:
    return sum(1 for note in measure.iter("note") if note.find("pitch") is not None)


def repeated_measures(root) -> set[int]:
    """Indices of the measures between forward and backward repeat marks."""
    inside, repeated = False, set()
    for index, measure in enumerate(root.iter("measure")):
        directions = [r.get("direction") for r in measure.iter("repeat")]
        inside = inside or "forward" in directions
        if inside:
            repeated.add(index)
        if "backward" in directions:
            inside = False
    return repeated


# ------------------------------------------------------------------------------------------------ determinism


def test_same_seed_gives_the_same_piece():
    assert compose_piece(7) == compose_piece(7)
    assert compose_piece(7, measures=10).musicxml == compose_piece(7, measures=10).musicxml


def test_different_seeds_give_different_pieces(pieces):
    assert len({piece.musicxml for piece in pieces.values()}) == len(pieces)
    assert len({piece.title for piece in pieces.values()}) > len(pieces) // 2
    assert compose_piece(3, measures=16).musicxml != compose_piece(4, measures=16).musicxml


# ---------------------------------------------------------------------------------------------- the MusicXML


@pytest.mark.parametrize("seed", [0, 5, 11, 26])
def test_piece_is_a_two_staff_piano_score(seed, pieces):
    piece = pieces[seed]
    root = ET.fromstring(piece.musicxml)
    assert root.tag == "score-partwise"
    assert [p.text for p in root.iter("part-name")] == ["Piano"] and len(root.findall("part")) == 1
    first = root.find("part/measure")
    assert first.findtext("attributes/staves") == "2"
    assert {c.get("number"): c.findtext("sign") for c in first.iter("clef")} in ({"1": "G", "2": "F"},
                                                                                 {"1": "G", "2": "G"},
                                                                                 {"1": "F", "2": "F"})
    assert int(first.findtext("attributes/key/fifths")) == piece.params["key"]
    assert first.findtext("attributes/time/beats") + "/" + first.findtext("attributes/time/beat-type") == \
        piece.params["meter"]
    tempo = first.find("direction/sound")
    assert int(tempo.get("tempo")) == piece.params["tempo"]
    assert piece.params["tempo_mark"] in "".join(first.find("direction").itertext())
    assert len(root.findall("part/measure")) == piece.params["measures"]
    assert [b.findtext("bar-style") for b in root.findall("part/measure")[-1].iter("barline")][-1] == "light-heavy"


@pytest.mark.parametrize("seed", [1, 2, 9, 17])
def test_every_voice_fills_every_bar(seed, pieces):
    root = ET.fromstring(pieces[seed].musicxml)
    length = bar_length(root)
    for measure in root.iter("measure"):
        filled = defaultdict(int)
        for note in measure.iter("note"):
            if note.find("chord") is None:
                filled[(note.findtext("staff"), note.findtext("voice"))] += int(note.findtext("duration"))
        assert set(filled.values()) == {length}, f"measure {measure.get('number')}"
        assert {staff for staff, _ in filled} == {"1", "2"}


def test_pitches_are_on_the_piano_and_chords_fit_a_hand(pieces):
    for piece in pieces.values():
        chord: list[int] = []
        for note in ET.fromstring(piece.musicxml).iter("note"):
            if note.find("pitch") is None:
                continue
            pitch = midi(note)
            assert 21 <= pitch <= 108
            chord = chord + [pitch] if note.find("chord") is not None else [pitch]
            assert max(chord) - min(chord) <= 12, piece.seed


def test_ties_join_equal_pitches_and_are_all_closed(pieces):
    for piece in pieces.values():
        open_ties: dict[tuple, int] = {}
        for note in ET.fromstring(piece.musicxml).iter("note"):
            if note.find("pitch") is None:
                continue
            where = (note.findtext("staff"), note.findtext("voice"), midi(note))
            kinds = [tie.get("type") for tie in note.findall("tie")]
            if "stop" in kinds:
                assert open_ties.pop(where, None) is not None, piece.seed
            if "start" in kinds:
                open_ties[where] = 1
        assert not open_ties, piece.seed


def test_every_backward_repeat_has_its_forward_mark(pieces):
    # verovio sends a backward repeat without a forward mark back to the very start
    for piece in pieces.values():
        marks = [r.get("direction") for r in ET.fromstring(piece.musicxml).iter("repeat")]
        assert marks == ["forward", "backward"] * piece.params["repeats"]


def test_measure_count_is_honoured():
    for measures in (1, 5, 12, 30):
        piece = compose_piece(21, measures=measures)
        assert piece.params["measures"] == measures
        assert len(ET.fromstring(piece.musicxml).findall("part/measure")) == measures
    load(compose_piece(21, measures=1).musicxml).renderToTimemap()
    with pytest.raises(ValueError):
        compose_piece(21, measures=0)


def test_default_lengths_fill_one_to_four_pages(pieces):
    lengths = [piece.params["measures"] for piece in pieces.values()]
    assert min(lengths) >= 8 and max(lengths) <= 96
    assert len(set(lengths)) >= 6


# ---------------------------------------------------------------------------------------------------- verovio


@pytest.mark.parametrize("feature", ["compound meter", "repeats", "key change", "two voices"])
def test_pieces_engrave_in_verovio_without_complaint(feature, pieces, capfd):
    wanted = {"compound meter": lambda p: p["meter"] in ("6/8", "9/8", "12/8", "3/8"),
              "repeats": lambda p: p["repeats"] > 0,
              "key change": lambda p: p["key_changes"] > 0,
              "two voices": lambda p: "two_voices" in {r for r, _ in p["textures"]}}[feature]
    piece = pieces[first_seed(pieces, wanted)]
    verovio.enableLog(verovio.LOG_WARNING)
    try:
        capfd.readouterr()
        toolkit = load(piece.musicxml)
        pages = toolkit.getPageCount()
        assert pages >= 1
        for page in range(1, pages + 1):
            svg = toolkit.renderToSVG(page)
            assert svg.count('class="staff"') >= 2 and svg.count('class="note"') > 10
        timemap = toolkit.renderToTimemap()
        mei = toolkit.getMEI()
        log = capfd.readouterr().err
    finally:
        verovio.enableLog(verovio.LOG_OFF)
    assert "[Error]" not in log and "[Warning]" not in log, log
    assert mei.count("<staffDef ") >= 2
    times = [event["tstamp"] for event in timemap]
    assert times == sorted(set(times)) and sum(len(e.get("on", ())) for e in timemap) > 50
    assert times[-1] == pytest.approx(_expected_milliseconds(piece), rel=0.005)


def _expected_milliseconds(piece) -> float:
    """The piece's length at its marked tempo, each repeated section played twice."""
    beats, beat_type = (int(v) for v in piece.params["meter"].split("/"))
    quarters_per_bar = beats * 4 / beat_type
    bars = sum(s["measures"] * (2 if s["repeat"] else 1) for s in piece.params["sections"])
    return bars * quarters_per_bar * 60_000 / piece.params["tempo"]


def test_repeats_expand_in_the_timemap():
    seed = next(s for s in range(100) if compose_piece(s, measures=16).params["repeats"])
    for piece in (compose_piece(seed, measures=16), compose_piece(seed, measures=8)):
        root = ET.fromstring(piece.musicxml)
        repeated = repeated_measures(root)
        written = sum(pitched_notes(m) for m in root.iter("measure"))
        expected = written + sum(pitched_notes(m) for i, m in enumerate(root.iter("measure")) if i in repeated)
        played = sum(len(event.get("on", ())) for event in load(piece.musicxml).renderToTimemap())
        assert played == expected
        assert (played > written) == bool(piece.params["repeats"])


# ---------------------------------------------------------------------------------------------------- variety


def test_variety_across_seeds(pieces):
    params = [piece.params for piece in pieces.values()]
    assert len({p["key"] for p in params}) >= 8
    assert {p["minor"] for p in params} == {True, False}
    assert len({p["meter"] for p in params}) >= 6
    assert max(p["tempo"] for p in params) - min(p["tempo"] for p in params) >= 60
    textures = [t for p in params for t in p["textures"]]
    assert len({right for right, _ in textures}) >= len(RIGHT_TEXTURES) - 1
    assert len({left for _, left in textures}) >= len(LEFT_TEXTURES) - 1
    for feature in ("repeats", "key_changes", "clef_changes"):
        assert sum(p[feature] > 0 for p in params) >= 5, feature
    assert sum(p["clef_changes"] == 0 for p in params) >= 3  # clef changes are occasional, not constant
    assert len({p["form"] for p in params}) >= 10


def test_notation_variety_across_seeds(pieces):
    for feature in XML_FEATURES:
        assert sum(feature in piece.musicxml for piece in pieces.values()) >= 3, feature


def test_pieces_mix_hands_textures_within_a_piece(pieces):
    assert sum(len(set(piece.params["textures"])) >= 2 for piece in pieces.values()) >= len(pieces) * 2 // 3


# ----------------------------------------------------------------------------------------------------- spelling


def test_leading_tones_and_key_names_are_spelled_from_the_key():
    assert spell(61, Key(-1, True)) == ("C", 1, 4)  # C-sharp in D minor, not D-flat
    assert spell(65, Key(3, True)) == ("E", 1, 4)  # E-sharp in F-sharp minor
    assert spell(60, Key(4, True)) == ("B", 1, 3)  # B-sharp belongs to the octave below
    assert spell(67, Key(5, True)) == ("F", 2, 4)  # F-double-sharp in G-sharp minor
    assert spell(59, Key(-6, False)) == ("C", -1, 4)  # C-flat in G-flat major
    assert spell(70, Key(-2, False)) == ("B", -1, 4)
    assert Key(-6, True).name == "E-flat minor" and Key(6, False).name == "F-sharp major"
    assert Key(0, True).name == "A minor" and Key(-1, False).name == "F major"
