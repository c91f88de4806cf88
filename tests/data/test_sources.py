import xml.etree.ElementTree as ET
import zipfile
from collections import Counter

import pytest

from sheetsync.data.corpus import chorales, corpus_root, default_sources, is_reserved
from sheetsync.data.engrave import EngraveStyle, engrave
from sheetsync.data.grandstaff import four_parts_to_grand_staff
from sheetsync.data.sources import read_score_text, sources_from_paths
from sheetsync.errors import SheetsyncError
from tests.data.scores import piano_musicxml

ABC_TWO_TUNES = """%abc
X:1
T:First Tune
M:4/4
L:1/8
K:G
GABc d2 B2|c2 A2 G4|]

X:2
T:Second Tune
M:3/4
L:1/4
K:D
D F A|d2 A|F2 D|]
"""


def test_abc_file_yields_one_source_per_tune(tmp_path):
    path = tmp_path / "tunes.abc"
    path.write_text(ABC_TWO_TUNES)
    sources = sources_from_paths([str(path)])
    assert [s.id for s in sources] == ["tunes-001", "tunes-002"]
    title, text = sources[1].load()
    assert title == "Second Tune"
    notes = engrave(text, EngraveStyle()).notes
    assert [n.pitch for n in notes] == [62, 66, 69, 74, 69, 66, 62]


def test_folder_sources_are_sorted_and_filtered(tmp_path):
    (tmp_path / "b.musicxml").write_text(piano_musicxml(2))
    (tmp_path / "a.xml").write_text(piano_musicxml(2))
    (tmp_path / "notes.txt").write_text("not a score")
    assert [s.id for s in sources_from_paths([str(tmp_path)])] == ["a", "b"]


def test_utf16_compressed_musicxml_is_decoded(tmp_path):
    text = piano_musicxml(2).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "wide.mxl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("META-INF/container.xml",
                         '<container><rootfiles><rootfile full-path="score.xml"/></rootfiles></container>')
        archive.writestr("score.xml", text.encode("utf-16"))
    decoded = read_score_text(path)
    assert "UTF-16" not in decoded
    assert len(engrave(decoded, EngraveStyle()).notes) > 0


@pytest.mark.parametrize("name, content, message", [
    ("missing.musicxml", None, "does not exist"),
    ("score.pdf", b"%PDF-1.4", "not a supported score file"),
    ("broken.mxl", b"not a zip", "cannot read score file"),
])
def test_bad_sources_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SheetsyncError, match=message) as error:
        sources = sources_from_paths([str(path)])
        sources[0].load()
    assert name in str(error.value)


def test_reserved_pieces_are_refused_unless_for_evaluation():
    reserved = corpus_root() / "joplin"
    files = sorted(reserved.iterdir())
    assert is_reserved(files[0])
    with pytest.raises(SheetsyncError, match="reserved for evaluation"):
        sources_from_paths([str(reserved)])
    assert sources_from_paths([str(reserved)], allow_reserved=True)


def test_default_corpus_leaves_out_every_reserved_piece():
    sources = default_sources(seed=0, folk_tunes=300, composed=2)
    paths = [s.path for s in sources if s.path]
    assert paths and not any(is_reserved(p) for p in paths)
    assert not any("oneills1850" in s.origin or "bach/bwv2" in s.origin for s in sources)
    assert sum(s.composed_seed is not None for s in sources) == 2
    assert len({s.id for s in sources}) == len(sources)


@pytest.mark.parametrize("chorale", ["bach-bwv10.7", "bach-bwv1.6"])  # plain SATB; horn + SATB in mixed divisions
def test_chorale_becomes_a_two_staff_piano_score(chorale):
    source = next(s for s in chorales(corpus_root()) if s.id == chorale)
    original = read_score_text(source.path)
    piano = four_parts_to_grand_staff(original)
    root = ET.fromstring(piano)
    assert len(root.findall("part")) == 1
    assert root.find("part/measure/attributes/staves").text == "2"
    assert {s.text for s in root.iter("staff")} == {"1", "2"}
    played = Counter((n.start, n.pitch) for n in engrave(piano, EngraveStyle()).notes)
    sung = Counter((n.start, n.pitch) for n in engrave(original, EngraveStyle()).notes)
    assert played and not played - sung
    if chorale == "bach-bwv10.7":
        assert played == sung


def test_scores_that_are_not_four_parts_are_left_alone():
    text = piano_musicxml(2)
    assert four_parts_to_grand_staff(text) == text
