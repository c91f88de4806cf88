import shutil

import pytest

from sheetsync.cli import main
from tests._jack import jack_server  # noqa: F401 (a fixture)
from tests.data.scores import piano_musicxml


@pytest.fixture(scope="session")
def built_dataset(tmp_path_factory):
    """A real dataset built by `sheetsync data build` from two tiny scores (read-only: copy to change), voiced
    by the soundfont pretty_midi ships alone, so that it sounds the same whether or not Debian's are installed."""
    from sheetsync.data import synth

    scores = tmp_path_factory.mktemp("scores")
    (scores / "short.musicxml").write_text(piano_musicxml(4))
    (scores / "long.musicxml").write_text(piano_musicxml(70, tempo=160))
    (scores / "third.musicxml").write_text(piano_musicxml(3, tie=False))
    out = tmp_path_factory.mktemp("built") / "set"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synth, "SOUNDFONT_DIRS", ())
        assert main(["data", "build", str(scores), "--out", str(out), "--tempo-variants", "2", "--workers", "1",
                     "--pdf", "--seed", "3"]) == 0
    return out


@pytest.fixture
def dataset_copy(built_dataset, tmp_path):
    """A private copy of the built dataset that a test may break."""
    return shutil.copytree(built_dataset, tmp_path / "set")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A randomly initialised tiny model saved as a checkpoint (the engine's tests need a model, not a good one)."""
    import torch

    from sheetsync.model import checkpoint
    from sheetsync.model.config import TINY
    from sheetsync.model.network import ScoreFollower

    torch.manual_seed(0)
    return checkpoint.save(tmp_path_factory.mktemp("ck") / "tiny", ScoreFollower(TINY))


@pytest.fixture(scope="session")
def tiny_match_checkpoint(tmp_path_factory):
    """The same with "match" conditioning and the audio shortcut."""
    import torch

    from sheetsync.model import checkpoint
    from sheetsync.model.config import TINY
    from sheetsync.model.network import ScoreFollower

    torch.manual_seed(0)
    model = ScoreFollower(TINY.replace(conditioning="match", shortcut=3))
    return checkpoint.save(tmp_path_factory.mktemp("ck") / "tiny-match", model)


@pytest.fixture(scope="session")
def two_pages(built_dataset, tmp_path_factory):
    """The long test piece: its PDF (two or more pages) and the first 8 seconds of its recording."""
    import soundfile

    folder = built_dataset / "long-v1"
    audio, rate = soundfile.read(folder / "audio.flac")
    opening = tmp_path_factory.mktemp("audio") / "opening.flac"
    soundfile.write(opening, audio[: 8 * rate], rate)
    return folder / "score.pdf", opening
