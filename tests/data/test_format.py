import io
import json
import os
import shutil

import numpy as np
import pytest
import soundfile
from PIL import Image

from sheetsync.cli import main
from sheetsync.data.format import (Dataset, DatasetError, Piece, SplitSummary, Violation, check_command, load_dataset,
                                   open_dataset, read_page_image, summarize, validate, validate_piece,
                                   write_dataset_json, write_piece)
from sheetsync.errors import SheetsyncError
from tests.data.dataset_factory import make_dataset, make_piece, page_png, tone_flac

# The template set: piece-01 .. piece-03, each 2 pages x 2 systems x 4 onsets (16 onsets, 0.25 s to 7.75 s).


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("template") / "set", n_pieces=3,
                        splits={"train": 2, "test": 1}, extra={"generator": {"seed": 7}})


@pytest.fixture
def dataset(template, tmp_path):
    """A private copy of the template set that a test may break."""
    return shutil.copytree(template, tmp_path / "set")


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def swap_pages_of_systems_1_and_2(d):
    """Systems on pages 0, 1, 0, 1: consistent onsets and no overlap, but out of reading order."""
    s = d["systems"]
    s[1]["page"], s[2]["page"] = 1, 0
    s[1]["bbox"], s[2]["bbox"] = s[2]["bbox"], s[1]["bbox"]
    for onset in d["onsets"]:
        if onset["system"] in (1, 2):
            onset["page"] = s[onset["system"]]["page"]


# change to piece-01's piece.json -> the fields (all of piece-01) its violations must name
PIECE_BREAKAGES = {
    "id differs from folder": (lambda d: d.update(id="another"), {"id"}),
    "title missing": (lambda d: d.pop("title"), {"title"}),
    "source not a string": (lambda d: d.update(source=3), {"source"}),
    "engraver missing": (lambda d: d.pop("engraver"), {"engraver"}),
    "pages missing": (lambda d: d.pop("pages"), {"pages"}),
    "no pages": (lambda d: d.update(pages=[]), {"pages"}),
    "no systems": (lambda d: d.update(systems=[]), {"systems"}),
    "no onsets": (lambda d: d.update(onsets=[]), {"onsets"}),
    "pages not a list": (lambda d: d.update(pages={"image": "page-01.png"}), {"pages"}),
    "page width differs from image": (lambda d: d["pages"][0].update(width=403), {"pages[0].width"}),
    "page height differs from image": (lambda d: d["pages"][1].update(height=500), {"pages[1].height"}),
    "page width not an integer": (lambda d: d["pages"][0].update(width=400.5), {"pages[0].width"}),
    "page width a string": (lambda d: d["pages"][0].update(width="400"), {"pages[0].width"}),
    "dpi zero": (lambda d: d["pages"][0].update(dpi=0), {"pages[0].dpi"}),
    "dpi missing": (lambda d: d["pages"][1].pop("dpi"), {"pages[1].dpi"}),
    "image missing key": (lambda d: d["pages"][0].pop("image"), {"pages[0].image"}),
    "image does not exist": (lambda d: d["pages"][0].update(image="page-09.png"), {"pages[0].image"}),
    "image outside the folder": (lambda d: d["pages"][0].update(image="../piece-02/page-01.png"), {"pages[0].image"}),
    "image is not an image": (lambda d: d["pages"][0].update(image="audio.flac"), {"pages[0].image"}),
    "system page out of range": (lambda d: d["systems"][3].update(page=2), {"systems[3].page"}),
    "system page not an integer": (lambda d: d["systems"][3].update(page="1"), {"systems[3].page"}),
    "bbox inverted": (lambda d: d["systems"][0].update(bbox=[380, 70, 20, 210]), {"systems[0].bbox"}),
    "bbox three numbers": (lambda d: d["systems"][0].update(bbox=[20, 70, 380]), {"systems[0].bbox"}),
    "bbox past the page's right edge": (lambda d: d["systems"][0].update(bbox=[20, 70, 402, 210]),
                                        {"systems[0].bbox"}),
    "bbox past the page's bottom": (lambda d: d["systems"][1].update(bbox=[20, 350, 380, 562]), {"systems[1].bbox"}),
    "bbox overlaps its neighbour": (lambda d: d["systems"][1].update(bbox=[20, 200, 380, 490]), {"systems[1].bbox"}),
    "systems out of reading order": (swap_pages_of_systems_1_and_2, {"systems[2].page"}),
    "onset before an earlier one": (lambda d: d["onsets"][3].update(time=0.5), {"onsets[3].time"}),
    "onset time negative": (lambda d: d["onsets"][0].update(time=-0.1), {"onsets[0].time"}),
    "onset after the audio ends": (lambda d: d["onsets"][15].update(time=9.0), {"onsets[15].time"}),
    "onset time missing": (lambda d: d["onsets"][2].pop("time"), {"onsets[2].time"}),
    "onset time not finite": (lambda d: d["onsets"][2].update(time=float("nan")), {"onsets[2].time"}),
    "onset system out of range": (lambda d: d["onsets"][2].update(system=4), {"onsets[2].system"}),
    "onset system negative": (lambda d: d["onsets"][2].update(system=-1), {"onsets[2].system"}),
    "onset page is not its system's": (lambda d: d["onsets"][5].update(page=1), {"onsets[5].page"}),
    "onset page out of range": (lambda d: d["onsets"][5].update(page=7), {"onsets[5].page"}),
    "onset x negative": (lambda d: d["onsets"][4].update(x=-5.0), {"onsets[4].x"}),
    "onset x past the page": (lambda d: d["onsets"][4].update(x=401.0), {"onsets[4].x"}),
    "onset x missing": (lambda d: d["onsets"][4].pop("x"), {"onsets[4].x"}),
    "onset y past the page": (lambda d: d["onsets"][4].update(y=600.0), {"onsets[4].y"}),
    "onset pitch not MIDI": (lambda d: d["onsets"][4].update(pitch=128), {"onsets[4].pitch"}),
    "onset pitch a bool": (lambda d: d["onsets"][4].update(pitch=True), {"onsets[4].pitch"}),
    "onset not an object": (lambda d: d["onsets"].__setitem__(4, [1.0, 0, 0, 3.0]), {"onsets[4]"}),
    "audio missing key": (lambda d: d.pop("audio"), {"audio"}),
    "audio does not exist": (lambda d: d.update(audio="audio.wav"), {"audio"}),
    "audio is not audio": (lambda d: d.update(audio="page-01.png"), {"audio"}),
    "audio outside the folder": (lambda d: d.update(audio="../piece-02/audio.flac"), {"audio"}),
}


@pytest.mark.parametrize("case", PIECE_BREAKAGES)
def test_each_broken_piece_rule_is_named(dataset, case):
    change, fields = PIECE_BREAKAGES[case]
    edit_json(dataset / "piece-01" / "piece.json", change)
    violations = validate(dataset)
    assert {v.field for v in violations} == fields, violations
    assert all(v.piece == "piece-01" for v in violations)
    line = str(violations[0])
    assert "piece-01" in line and violations[0].field in line and violations[0].rule in line and "\n" not in line


def replace_file(name, content):
    return lambda folder: (folder / name).write_bytes(content)


def png(size, mode="L"):
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, format="PNG" if mode != "CMYK" else "JPEG")
    return buffer.getvalue()


def flac(seconds, channels=1):
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros((int(seconds * 8000), channels)), 8000, format="FLAC")
    return buffer.getvalue()


# change to piece-01's files -> the fields its violations must name
FILE_BREAKAGES = {
    "image resized": (replace_file("page-02.png", png((400, 561))), {"pages[1].height"}),
    "image both sides differ": (replace_file("page-02.png", png((399, 561))), {"pages[1].width", "pages[1].height"}),
    "image deleted": (lambda folder: (folder / "page-01.png").unlink(), {"pages[0].image"}),
    "image truncated": (replace_file("page-01.png", b"\x89PNG\r\n"), {"pages[0].image"}),
    "image in CMYK": (replace_file("page-01.png", png((400, 560), "CMYK")), {"pages[0].image"}),
    "audio shorter than the onsets": (replace_file("audio.flac", flac(7.5)), {"onsets[15].time"}),
    "audio with three channels": (replace_file("audio.flac", flac(9.0, channels=3)), {"audio"}),
    "audio not audio": (replace_file("audio.flac", b"not audio at all"), {"audio"}),
    "audio deleted": (lambda folder: (folder / "audio.flac").unlink(), {"audio"}),
    "piece.json not JSON": (replace_file("piece.json", b"{"), {"piece.json"}),
    "piece.json a list": (replace_file("piece.json", b"[]"), {"piece.json"}),
}


@pytest.mark.parametrize("case", FILE_BREAKAGES)
def test_each_broken_file_rule_is_named(dataset, case):
    change, fields = FILE_BREAKAGES[case]
    change(dataset / "piece-01")
    violations = validate(dataset)
    assert {v.field for v in violations} == fields and {v.piece for v in violations} == {"piece-01"}, violations


def test_onsets_up_to_the_last_sample_are_within_the_audio(dataset):
    (dataset / "piece-01" / "audio.flac").write_bytes(flac(7.75))
    assert validate(dataset) == []


def test_overlap_is_checked_between_every_pair_on_a_page(tmp_path):
    root = make_dataset(tmp_path / "set", n_pieces=1, systems_per_page=3, onsets_per_system=1)
    edit_json(root / "piece-01" / "piece.json", lambda d: d["systems"][2].update(bbox=[20, 100, 380, 520]))
    assert [(v.field, v.rule) for v in validate(root)] == [("systems[2].bbox", "overlaps systems[0] on page 0"),
                                                            ("systems[2].bbox", "overlaps systems[1] on page 0")]


def test_boxes_may_touch_and_pass_the_edge_within_the_tolerance(dataset):
    def touch(d):
        d["systems"][0]["bbox"] = [-0.5, 0.0, 400.5, 280.5]
        d["systems"][1]["bbox"] = [0.0, 280.0, 400.0, 560.5]
    edit_json(dataset / "piece-01" / "piece.json", touch)
    assert validate(dataset) == []


# change to dataset.json -> (piece, field) pairs its violations must be exactly
INDEX_BREAKAGES = {
    "format wrong": (lambda d: d.update(format="other"), {(None, "format")}),
    "format missing": (lambda d: d.pop("format"), {(None, "format")}),
    "version 2": (lambda d: d.update(version=2), {(None, "version")}),
    "pieces missing": (lambda d: d.pop("pieces"), {(None, "pieces"), ("piece-01", "splits.train"),
                                                    ("piece-02", "splits.train"), ("piece-03", "splits.test")}),
    "pieces not a list of names": (lambda d: d.update(pieces="piece-01"), {
        (None, "pieces"), ("piece-01", "splits.train"), ("piece-02", "splits.train"), ("piece-03", "splits.test")}),
    "listed piece does not exist": (lambda d: d["pieces"].append("ghost"), {("ghost", "pieces[3]")}),
    "piece listed twice": (lambda d: d["pieces"].append("piece-02"), {("piece-02", "pieces[3]")}),
    "piece outside the set": (lambda d: d["pieces"].append("../set"), {("../set", "pieces[3]")}),
    "piece in two splits": (lambda d: d["splits"]["test"].append("piece-01"), {("piece-01", "splits.test")}),
    "piece twice in one split": (lambda d: d["splits"]["test"].append("piece-03"), {("piece-03", "splits.test")}),
    "split member not in pieces": (lambda d: d["splits"]["train"].append("ghost"), {("ghost", "splits.train")}),
    "splits not a mapping": (lambda d: d.update(splits=["piece-01"]), {(None, "splits")}),
}


@pytest.mark.parametrize("case", INDEX_BREAKAGES)
def test_each_broken_index_rule_is_named(dataset, case):
    change, expected = INDEX_BREAKAGES[case]
    edit_json(dataset / "dataset.json", change)
    violations = validate(dataset)
    assert {(v.piece, v.field) for v in violations} == expected, violations
    for violation in violations:
        assert violation.field in str(violation) and "\n" not in str(violation)
        assert violation.piece is None or violation.piece in str(violation)


def test_dataset_json_that_is_not_an_object(dataset):
    (dataset / "dataset.json").write_text('["piece-01"]')
    assert [(v.piece, v.field) for v in validate(dataset)] == [(None, "dataset.json")]


def test_every_violation_is_reported_and_nothing_loads(dataset, capsys):
    edit_json(dataset / "piece-01" / "piece.json", lambda d: (d.update(id="x"), d["onsets"][3].update(time=0.1)))
    edit_json(dataset / "piece-03" / "piece.json", lambda d: d["systems"][0].update(page=5))
    (dataset / "piece-02" / "audio.flac").write_bytes(b"noise")
    edit_json(dataset / "dataset.json", lambda d: (d.update(version=3), d["splits"]["train"].append("ghost")))
    expected = {("piece-01", "id"), ("piece-01", "onsets[3].time"), ("piece-03", "systems[0].page"),
                ("piece-02", "audio"), (None, "version"), ("ghost", "splits.train")}
    assert {(v.piece, v.field) for v in validate(dataset)} == expected
    with pytest.raises(DatasetError) as error:
        load_dataset(dataset)
    assert len(error.value.violations) == len(expected)
    message = str(error.value)
    for violation in error.value.violations:
        assert str(violation) in message
    assert check_command(str(dataset)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == len(expected) + 1 and "6 problems" in lines[-1] and str(dataset) in lines[-1]


def test_round_trip(tmp_path):
    root = tmp_path / "set"
    pieces = [make_piece("a", n_pages=1, extra={"tempo": {"curve": "rubato"}}),
              make_piece("b", n_pages=3, systems_per_page=1, image_mode="RGB")]
    for piece, files in pieces:
        assert write_piece(root, piece, files) == root / piece.id
    write_dataset_json(root, ["a", "b"], {"valid": ["b"], "train": ["a"]}, extra={"seeds": [1, 2]})
    dataset = load_dataset(root)
    assert dataset == Dataset(root, ("a", "b"), {"valid": ("b",), "train": ("a",)}, {"seeds": [1, 2]})
    assert list(dataset.splits) == ["valid", "train"]
    for piece, files in pieces:
        loaded = dataset.load_piece(piece.id)
        assert loaded == piece
        assert all(isinstance(s.bbox, tuple) for s in loaded.systems)
        for name, content in files.items():
            assert (dataset.piece_dir(piece.id) / name).read_bytes() == content


def test_piece_helpers(template):
    piece = load_dataset(template).load_piece("piece-02")
    assert piece.onset_times == pytest.approx(0.25 + 0.5 * np.arange(16))
    assert piece.onset_times.dtype == np.float64
    assert piece.audio_path(template) == template / "piece-02" / "audio.flac"
    assert piece.page_path(template, 1) == template / "piece-02" / "page-02.png"
    assert soundfile.info(str(piece.audio_path(template))).frames > 0


def test_unknown_keys_are_kept(tmp_path, template):
    edit = tmp_path / "edited"
    shutil.copytree(template, edit)
    edit_json(edit / "piece-01" / "piece.json", lambda d: d.update(recorded_by="someone", id_note={"a": [1]}))
    edit_json(edit / "dataset.json", lambda d: d.update(licence="CC0"))
    dataset = load_dataset(edit)
    assert dataset.extra == {"generator": {"seed": 7}, "licence": "CC0"}
    piece = dataset.load_piece("piece-01")
    assert piece.extra == {"recorded_by": "someone", "id_note": {"a": [1]}}
    copy = tmp_path / "copy"
    files = {name: edit / "piece-01" / name for name in ("page-01.png", "page-02.png", "audio.flac")}
    write_piece(copy, piece, files)
    write_dataset_json(copy, ["piece-01"], extra=dataset.extra)
    again = load_dataset(copy)
    assert again.extra == dataset.extra and again.load_piece("piece-01") == piece


def test_unknown_keys_never_replace_format_keys(tmp_path):
    piece, files = make_piece("a", n_pages=1)
    shadowing = Piece(**{**piece.__dict__, "extra": {"id": "b", "onsets": [], "note": 1}})
    assert shadowing.to_json()["id"] == "a" and shadowing.to_json()["note"] == 1
    with pytest.raises(ValueError, match="pieces"):
        write_dataset_json(tmp_path, [], extra={"pieces": ["a"]})


def test_a_writer_that_fails_midway_leaves_nothing(tmp_path):
    piece, files = make_piece("a", n_pages=2)
    files = {"page-01.png": files["page-01.png"], "page-02.png": tmp_path / "missing.png",
             "audio.flac": files["audio.flac"]}
    root = tmp_path / "set"
    with pytest.raises(FileNotFoundError):
        write_piece(root, piece, files)
    assert list(root.iterdir()) == []
    with pytest.raises(TypeError):
        write_piece(root, piece, {"page-01.png": b"", "page-02.png": "page-02.png"})
    assert list(root.iterdir()) == []


def test_a_piece_is_filled_in_a_hidden_sibling_folder(tmp_path):
    piece, files = make_piece("a", n_pages=1)
    root = tmp_path / "set"
    seen = []

    class Watched(dict):
        def items(self):
            for name, content in super().items():
                seen.append(sorted(p.name for p in root.iterdir()))
                yield name, content

    write_piece(root, piece, Watched(files))
    assert len(seen) == 2 and all(len(names) == 1 and names[0].startswith(".a.tmp-") for names in seen)
    assert [p.name for p in root.iterdir()] == ["a"]


def test_a_piece_that_breaks_the_format_is_not_written(tmp_path):
    piece, files = make_piece("a", n_pages=2)
    del files["audio.flac"]
    with pytest.raises(DatasetError, match="audio"):
        write_piece(tmp_path, piece, files)
    assert list(tmp_path.iterdir()) == []
    write_piece(tmp_path, piece, files, check=False)
    assert [v.field for v in validate_piece(tmp_path / "a")] == ["audio"]


def test_existing_pieces_are_replaced_only_when_asked(tmp_path):
    root = make_dataset(tmp_path / "set", n_pieces=1)
    piece, files = make_piece("piece-01", n_pages=1)
    with pytest.raises(SheetsyncError, match="already exists"):
        write_piece(root, piece, files)
    assert len(load_dataset(root).load_piece("piece-01").pages) == 2
    write_piece(root, piece, files, overwrite=True)
    assert load_dataset(root).load_piece("piece-01") == piece
    assert not (root / "piece-01" / "page-02.png").exists()
    assert sorted(p.name for p in root.iterdir()) == ["dataset.json", "piece-01"]


@pytest.mark.parametrize("piece_id, name", [("../escape", "page-01.png"), (".hidden", "page-01.png"),
                                            ("a", "../page-01.png"), ("a", "/tmp/page-01.png"),
                                            ("a", "piece.json")])
def test_unsafe_names_are_refused(tmp_path, piece_id, name):
    piece, files = make_piece("a", n_pages=1)
    piece = Piece(**{**piece.__dict__, "id": piece_id})
    with pytest.raises(SheetsyncError):
        write_piece(tmp_path / "set", piece, {name: b"x"})
    assert not (tmp_path / "set").exists() or list((tmp_path / "set").iterdir()) == []


def test_written_files_follow_the_umask(tmp_path):
    mask = os.umask(0o022)
    try:
        root = make_dataset(tmp_path / "set", n_pieces=1)
    finally:
        os.umask(mask)
    assert (root / "piece-01").stat().st_mode & 0o777 == 0o755
    assert (root / "piece-01" / "piece.json").stat().st_mode & 0o777 == 0o644
    assert (root / "dataset.json").stat().st_mode & 0o777 == 0o644


def test_dataset_json_is_checked_and_replaced_atomically(dataset):
    before = (dataset / "dataset.json").read_bytes()
    with pytest.raises(DatasetError, match="ghost"):
        write_dataset_json(dataset, ["piece-01", "ghost"])
    with pytest.raises(DatasetError, match="at most one split"):
        write_dataset_json(dataset, ["piece-01", "piece-02"], {"train": ["piece-01"], "test": ["piece-01"]})
    assert (dataset / "dataset.json").read_bytes() == before
    write_dataset_json(dataset, ["piece-02"])
    assert load_dataset(dataset).pieces == ("piece-02",) and load_dataset(dataset).splits == {}
    assert sorted(p.name for p in dataset.iterdir()) == ["dataset.json", "piece-01", "piece-02", "piece-03"]


def test_pieces_without_dataset_json_are_an_unfinished_build(dataset, capsys):
    (dataset / "dataset.json").unlink()
    violations = validate(dataset)
    assert len(violations) == 1 and "unfinished build" in violations[0].rule
    with pytest.raises(DatasetError, match="unfinished build"):
        load_dataset(dataset)
    assert check_command(str(dataset)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unfinished build" in err[0] and str(dataset) in err[0]


@pytest.mark.parametrize("make, words", [(lambda p: p, "does not exist"),
                                         (lambda p: p.mkdir(), "not a sheetsync dataset"),
                                         (lambda p: p.write_text("x"), "not a folder")])
def test_check_names_a_folder_that_is_not_a_dataset(tmp_path, capsys, make, words):
    folder = tmp_path / "somewhere"
    make(folder)
    assert main(["data", "check", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and words in err and str(folder) in err


def test_check_prints_one_line_per_split(template, capsys):
    assert main(["data", "check", str(template)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["train: 2 pieces, 4 pages, 32 onsets, 0.00 h audio",
                                "test: 1 piece, 2 pages, 16 onsets, 0.00 h audio"]
    assert err == ""


def test_summaries_count_pieces_pages_onsets_and_hours(tmp_path, dataset):
    summaries = summarize(load_dataset(dataset))
    assert [(s.name, s.pieces, s.pages, s.onsets) for s in summaries] == [("train", 2, 4, 32), ("test", 1, 2, 16)]
    assert summaries[0].hours == pytest.approx(2 * 8.25 / 3600, rel=1e-4)
    edit_json(dataset / "dataset.json", lambda d: d.pop("splits"))
    assert [(s.name, s.pieces) for s in summarize(load_dataset(dataset))] == [("all", 3)]
    edit_json(dataset / "dataset.json", lambda d: d.update(splits={"test": ["piece-02"]}))
    assert [(s.name, s.pieces) for s in summarize(load_dataset(dataset))] == [("test", 1), ("no split", 2)]
    assert str(SplitSummary("train", 120, 310, 45000, 3.2 * 3600)) == \
        "train: 120 pieces, 310 pages, 45,000 onsets, 3.2 h audio"
    assert str(SplitSummary("valid", 1, 1, 1, 0.25 * 3600)) == "valid: 1 piece, 1 page, 1 onset, 0.25 h audio"


def test_splits(dataset):
    loaded = load_dataset(dataset)
    assert loaded.split("train") == ("piece-01", "piece-02") and loaded.split("test") == ("piece-03",)
    assert loaded.split(None) == loaded.split("all") == loaded.pieces
    with pytest.raises(SheetsyncError, match="no split 'valid'"):
        loaded.split("valid")
    with pytest.raises(SheetsyncError, match="no piece"):
        loaded.load_piece("piece-04")
    edit_json(dataset / "dataset.json", lambda d: d.pop("splits"))
    assert load_dataset(dataset).split("test") == ("piece-01", "piece-02", "piece-03")


def test_open_dataset_skips_the_checks(dataset):
    (dataset / "piece-03" / "audio.flac").unlink()
    assert open_dataset(dataset) == Dataset(dataset, ("piece-01", "piece-02", "piece-03"),
                                            {"train": ("piece-01", "piece-02"), "test": ("piece-03",)},
                                            {"generator": {"seed": 7}})
    with pytest.raises(DatasetError):
        load_dataset(dataset)


def test_unlisted_folders_are_not_part_of_the_set(dataset):
    (dataset / "stray").mkdir()
    (dataset / "stray" / "piece.json").write_text("not json")
    edit_json(dataset / "dataset.json", lambda d: (d.update(pieces=["piece-01"]), d.pop("splits")))
    assert validate(dataset) == [] and load_dataset(dataset).pieces == ("piece-01",)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA"])
def test_pages_read_as_grey_with_alpha_on_white(mode):
    piece, _ = make_piece("a", n_pages=1)
    reference = read_page_image(io.BytesIO(page_png(piece, 0, "L")))
    image = read_page_image(io.BytesIO(page_png(piece, 0, mode)))
    assert image.dtype == np.uint8 and image.shape == (560, 400)
    assert np.array_equal(image, reference) and 0 < (reference == 0).mean() < 0.1


def test_transparent_black_is_paper(tmp_path):
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)
    rgba[1, 1] = (0, 0, 0, 128)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "page.png")
    grey = read_page_image(tmp_path / "page.png")
    assert grey.shape == (4, 6) and grey[0, 0] == 0 and grey[2, 2] == 255 and 120 <= grey[1, 1] <= 135
    palette = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), "P")
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.save(tmp_path / "palette.png", transparency=0)
    assert read_page_image(tmp_path / "palette.png").tolist() == [[255, 76]]


def test_sixteen_bit_grey_is_scaled(tmp_path):
    Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.uint16)).save(tmp_path / "deep.png")
    assert read_page_image(tmp_path / "deep.png").tolist() == [[0, 128, 255]]


def test_violations_render_as_one_line():
    assert str(Violation("p", "onsets[2].time", "must not\nbe negative")) == \
        "piece 'p': onsets[2].time: must not be negative"
    assert str(Violation(None, "version", "must be 1")) == "dataset.json: version: must be 1"


def test_tone_flac_has_the_requested_length():
    info = soundfile.info(io.BytesIO(tone_flac([0.1, 0.5], 1.0, 8000)))
    assert (info.frames, info.samplerate, info.channels) == (8000, 8000, 1)
