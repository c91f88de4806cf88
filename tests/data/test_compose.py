import xml.etree.ElementTree as ET

import pytest

from sheetsync.data.compose import LEFT_TEXTURES, RIGHT_TEXTURES, compose_piece
from sheetsync.data.engrave import EngraveStyle, engrave


def test_same_seed_same_piece_other_seed_other_piece():
    assert compose_piece(11).musicxml == compose_piece(11).musicxml
    assert compose_piece(11).musicxml != compose_piece(12).musicxml


@pytest.mark.parametrize("seed", [0, 4, 15, 23])
def test_pieces_engrave_as_two_staff_piano_music(seed):
    piece = compose_piece(seed)
    root = ET.fromstring(piece.musicxml)
    assert len(root.findall("part")) == 1
    assert root.find("part/measure/attributes/staves").text == "2"
    assert len(root.findall("part/measure")) == piece.params["measures"]
    engraving = engrave(piece.musicxml, EngraveStyle(), name=f"seed {seed}")
    assert engraving.unplaced_notes == 0
    starts = [n.start for n in engraving.notes]
    assert starts == sorted(starts) and starts[-1] > 10
    staves_used = {n.y > engraving.systems[n.system][1][1] + (engraving.systems[n.system][1][3] -
                                                             engraving.systems[n.system][1][1]) / 2
                   for n in engraving.notes}
    assert staves_used == {True, False}  # both hands play


def test_measure_count_is_honoured():
    assert compose_piece(3, measures=12).params["measures"] == 12
    assert len(ET.fromstring(compose_piece(3, measures=12).musicxml).findall("part/measure")) == 12


def test_variety_across_seeds():
    params = [compose_piece(seed).params for seed in range(40)]
    assert len({p["key"] for p in params}) >= 6
    assert len({p["minor"] for p in params}) == 2
    assert len({p["meter"] for p in params}) >= 5
    textures = {t for p in params for t in p["textures"]}
    assert {r for r, _ in textures} == set(RIGHT_TEXTURES)
    assert {l for _, l in textures} == set(LEFT_TEXTURES)
    assert sum(p["repeats"] for p in params) > 5


def test_repeats_are_played_twice():
    seed = next(s for s in range(100) if compose_piece(s, measures=16).params["repeats"])
    piece = compose_piece(seed, measures=16)
    written = sum(1 for n in ET.fromstring(piece.musicxml).iter("note") if n.find("rest") is None
                  and n.find("tie[@type='stop']") is None)
    played = len(engrave(piece.musicxml, EngraveStyle()).notes)
    assert played > written
