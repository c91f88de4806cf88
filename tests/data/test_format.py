import json

import numpy as np
import pytest
from PIL import Image

from sheetsync.cli import main
from sheetsync.data.format import (DatasetError, Piece, load_dataset, read_page_image, validate, write_dataset_json,
                                   write_piece)


def edit_piece(root, piece_id, change):
    path = root / piece_id / "piece.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_index(root, change):
    path = root / "dataset.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


BREAKAGES = {
    "id": lambda d: d.update(id="another"),
    "pages": lambda d: d["pages"][0].update(width=d["pages"][0]["width"] + 3),
    "systems[1].bbox": lambda d: d["systems"][1].update(bbox=d["systems"][0]["bbox"]),
    "systems[0].bbox": lambda d: d["systems"][0].update(bbox=[10, 10, 5, 5]),
    "onsets[3].time": lambda d: d["onsets"][3].update(time=d["onsets"][0]["time"] - 0.25),
    "onsets[0].time": lambda d: d["onsets"][0].update(time=-1.0),
    "onsets[2].system": lambda d: d["onsets"][2].update(system=999),
    "onsets[5].page": lambda d: d["onsets"][5].update(page=d["onsets"][5]["page"] + 1),
    "onsets[4].x": lambda d: d["onsets"][4].update(x=-50.0),
    "audio": lambda d: d.update(audio="page-01.png"),
    "title": lambda d: d.pop("title"),
}


@pytest.mark.parametrize("field", BREAKAGES)
def test_each_broken_rule_names_piece_and_field(dataset_copy, field):
    edit_piece(dataset_copy, "long-v1", BREAKAGES[field])
    violations = validate(dataset_copy)
    assert violations, field
    assert any(v.piece == "long-v1" and v.field.startswith(field) for v in violations), violations


def test_onset_after_the_end_of_the_audio(dataset_copy):
    edit_piece(dataset_copy, "short-v1", lambda d: d["onsets"][-1].update(time=3600.0))
    assert any("after the end of the audio" in v.rule for v in validate(dataset_copy))


def test_all_violations_are_reported_and_nothing_loads(dataset_copy, capsys):
    edit_piece(dataset_copy, "short-v1", BREAKAGES["id"])
    edit_piece(dataset_copy, "long-v2", BREAKAGES["onsets[0].time"])
    edit_index(dataset_copy, lambda d: d["splits"]["train"].append("ghost"))
    with pytest.raises(DatasetError) as error:
        load_dataset(dataset_copy)
    message = str(error.value)
    assert "short-v1" in message and "long-v2" in message and "ghost" in message
    assert main(["data", "check", str(dataset_copy)]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 4


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d["pieces"].append("missing-piece"), "pieces"),
    (lambda d: d["splits"]["valid"].append(d["splits"]["train"][0]), "splits.valid"),
])
def test_index_rules(dataset_copy, change, field):
    edit_index(dataset_copy, change)
    assert any(v.field == field for v in validate(dataset_copy))


def test_unknown_keys_survive_a_round_trip(dataset_copy, tmp_path):
    dataset = load_dataset(dataset_copy)
    piece = dataset.load_piece("short-v1")
    assert "layout" in piece.extra
    copy = Piece.from_json({**piece.to_json(), "id": "copy", "recorded_by": "someone"})
    files = {p.image: (dataset_copy / "short-v1" / p.image) for p in piece.pages}
    files[piece.audio] = dataset_copy / "short-v1" / piece.audio
    write_piece(tmp_path / "other", copy, files)
    write_dataset_json(tmp_path / "other", ["copy"], extra={"provenance": "test"})
    again = load_dataset(tmp_path / "other")
    assert again.extra["provenance"] == "test"
    reloaded = again.load_piece("copy")
    assert reloaded.extra["recorded_by"] == "someone" and reloaded.onsets == piece.onsets


def test_failed_write_leaves_no_piece_behind(dataset_copy, tmp_path):
    piece = load_dataset(dataset_copy).load_piece("short-v1")

    files = {"page-01.png": b"x", "audio.flac": tmp_path / "does-not-exist.flac"}
    with pytest.raises(OSError):
        write_piece(tmp_path / "out", piece, files)
    assert list((tmp_path / "out").iterdir()) == []


def test_existing_piece_is_not_overwritten(dataset_copy):
    piece = load_dataset(dataset_copy).load_piece("short-v1")
    with pytest.raises(Exception, match="already exists"):
        write_piece(dataset_copy, piece, {})


def test_alpha_is_flattened_onto_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "page.png")
    grey = read_page_image(tmp_path / "page.png")
    assert grey[0, 0] == 0 and grey[1, 1] == 255


def test_not_a_dataset(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path)]) == 1
    assert "not a sheetsync dataset" in capsys.readouterr().err
    assert main(["data", "check", str(tmp_path / "nowhere")]) == 1
