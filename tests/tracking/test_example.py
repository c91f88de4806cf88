"""The shipped default model on the shipped example: what the README's first command shows."""

from pathlib import Path

import numpy as np

from sheetsync.audio.features import spectrogram
from sheetsync.audio.io import load_audio
from sheetsync.model import checkpoint
from sheetsync.score.load import load_score
from sheetsync.tracking.tracker import Tracker

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_the_default_model_follows_the_example_through_both_pages():
    model, _ = checkpoint.load(None)  # the shipped default
    score = load_score([EXAMPLES / "bach-bwv40.6.pdf"])
    tracker = Tracker(model, score)
    assert tracker.registers is not None  # it aligns what it hears with the registers it reads
    positions = [tracker.step(frame) for frame in spectrogram(load_audio(EXAMPLES / "bach-bwv40.6.flac"))]
    pages = np.array([p.page for p in positions])
    progress = np.array([p.progress for p in positions])
    assert len(score.pages) == 2 and set(pages) == {1, 2}
    turn = int(np.argmax(pages == 2))
    assert 0.2 < turn / len(positions) < 0.8 and (pages[turn:] == 2).mean() > 0.95  # turned once, mid-piece
    ranks = np.argsort(np.argsort(progress))
    assert np.corrcoef(ranks, np.arange(len(progress)))[0, 1] > 0.9  # it moves on with the music
    assert progress[: len(progress) // 10].max() < 0.3 and progress[-len(progress) // 10:].min() > 0.7
