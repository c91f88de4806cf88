import json

import numpy as np
import pymupdf
import soundfile

from sheetsync.cli import main
from sheetsync.data.format import load_dataset, read_page_image
from tests.data.onsets import detect_onsets, matched_share, separated
from tests.data.scores import notes_in, piano_musicxml


def test_built_set_passes_the_check(built_dataset, capsys):
    assert main(["data", "check", str(built_dataset)]) == 0
    out = capsys.readouterr().out
    assert "train:" in out and "pieces" in out and "h audio" in out


def test_variants_of_one_piece_share_a_split(built_dataset):
    dataset = load_dataset(built_dataset)
    assert len(dataset.pieces) == 6
    split_of = {pid: name for name, members in dataset.splits.items() for pid in members}
    for music in ("short", "long", "third"):
        assert split_of[f"{music}-v1"] == split_of[f"{music}-v2"]
    assert set(split_of.values()) == {"train", "valid", "test"}


def test_variants_differ_in_tempo_layout_or_timbre(built_dataset):
    dataset = load_dataset(built_dataset)
    a, b = dataset.load_piece("long-v1"), dataset.load_piece("long-v2")
    assert len(a.onsets) == len(b.onsets) == notes_in(70)  # one row per note, the tie merged
    assert a.onsets[-1].time != b.onsets[-1].time
    assert (a.extra["layout"], a.extra["instrument"]) != (b.extra["layout"], b.extra["instrument"])


def test_onsets_land_on_noteheads(built_dataset):
    dataset = load_dataset(built_dataset)
    for piece_id in dataset.pieces:
        piece = dataset.load_piece(piece_id)
        pages = [read_page_image(dataset.piece_dir(piece_id) / p.image) for p in piece.pages]
        for onset in piece.onsets:
            row, col = int(round(onset.y)), int(round(onset.x))
            assert pages[onset.page][row - 2:row + 3, col - 2:col + 3].min() < 100, (piece_id, onset)


def test_audio_has_an_onset_within_30_ms_of_every_listed_time(built_dataset):
    dataset = load_dataset(built_dataset)
    for piece_id in dataset.pieces:
        piece = dataset.load_piece(piece_id)
        audio, rate = soundfile.read(dataset.piece_dir(piece_id) / piece.audio)
        assert rate == 22050
        listed = separated(np.array([o.time for o in piece.onsets]))
        detected = detect_onsets(audio, rate)
        assert matched_share(listed, detected) >= 0.9, piece_id
        assert matched_share(listed + 0.1, detected) < 0.5


def test_long_piece_spans_pages_and_pdf_matches(built_dataset):
    dataset = load_dataset(built_dataset)
    piece = dataset.load_piece("long-v1")
    assert len(piece.pages) >= 2
    assert sorted({o.page for o in piece.onsets}) == list(range(len(piece.pages)))
    with pymupdf.open(dataset.piece_dir("long-v1") / "score.pdf") as pdf:
        assert pdf.page_count == len(piece.pages)


def test_rerun_resumes_without_rebuilding(built_dataset, tmp_path, capsys):
    stamp = {p: (built_dataset / p / "piece.json").stat().st_mtime_ns for p in load_dataset(built_dataset).pieces}
    scores = tmp_path / "scores"
    scores.mkdir()
    for name, measures, tempo, tie in (("short", 4, 120, True), ("long", 70, 160, True), ("third", 3, 120, False)):
        (scores / f"{name}.musicxml").write_text(piano_musicxml(measures, tie=tie, tempo=tempo))
    assert main(["data", "build", str(scores), "--out", str(built_dataset), "--tempo-variants", "2",
                 "--workers", "1", "--pdf", "--seed", "3"]) == 0
    assert "built 0 new pieces" in capsys.readouterr().out
    assert {p: (built_dataset / p / "piece.json").stat().st_mtime_ns for p in stamp} == stamp


def test_interrupted_build_is_not_a_dataset_and_resumes(dataset_copy, tmp_path, capsys):
    (dataset_copy / "dataset.json").unlink()
    assert main(["data", "check", str(dataset_copy)]) == 1
    assert "unfinished build" in capsys.readouterr().err


def test_output_folder_with_other_content_is_refused(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    score = tmp_path / "s.musicxml"
    score.write_text(piano_musicxml(2))
    assert main(["data", "build", str(score), "--out", str(out)]) == 2
    assert "already holds other files" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


def test_other_settings_are_refused_on_resume(dataset_copy, tmp_path, capsys):
    score = tmp_path / "s.musicxml"
    score.write_text(piano_musicxml(2))
    assert main(["data", "build", str(score), "--out", str(dataset_copy), "--seed", "4", "--tempo-variants", "2"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_bad_score_is_skipped_with_a_warning(tmp_path, capsys):
    scores = tmp_path / "scores"
    scores.mkdir()
    (scores / "good.musicxml").write_text(piano_musicxml(2))
    (scores / "bad.musicxml").write_text("<score-partwise><part-list/></score-partwise>")
    out = tmp_path / "out"
    assert main(["data", "build", str(scores), "--out", str(out), "--tempo-variants", "1", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "skipped bad" in captured.err + captured.out
    index = json.loads((out / "dataset.json").read_text())
    assert index["pieces"] == ["good-v1"] and "bad" in index["skipped"]


def test_composed_only_builds_new_music_alone(tmp_path):
    out = tmp_path / "dev"
    assert main(["data", "build", "--composed-only", "--composed", "2", "--seed", "7", "--tempo-variants", "1",
                 "--workers", "1", "--out", str(out)]) == 0
    assert sorted(load_dataset(out).pieces) == ["composed-7-0000-v1", "composed-7-0001-v1"]


def test_composed_only_with_score_sources_is_refused(tmp_path, capsys):
    score = tmp_path / "s.musicxml"
    score.write_text(piano_musicxml(2))
    out = tmp_path / "out"
    assert main(["data", "build", str(score), "--composed-only", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "--composed-only" in error and "s.musicxml" in error
    assert not out.exists()
