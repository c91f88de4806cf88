"""Run the real engine in tests: a checkpoint, a score, the opening seconds of a recording, some plugins."""

from __future__ import annotations

from sheetsync.audio.sources import FileSource
from sheetsync.engine import Control, Engine, session_for
from sheetsync.model import checkpoint
from sheetsync.plugins import plugin_manager
from sheetsync.score.load import load_score
from sheetsync.tracking.tracker import Tracker


def build_engine(score_path, audio_path, checkpoint_path, plugins, seconds=3.0, control=None, realtime=False):
    """The engine (as `sheetsync follow` builds it, without entry-point plugins) and its audio source."""
    model, _ = checkpoint.load(checkpoint_path)
    score = load_score([score_path])
    tracker = Tracker(model, score)
    manager = plugin_manager(entry_points=False)
    for plugin in plugins:
        manager.register(plugin)
    source = FileSource(audio_path, realtime=realtime)
    source.audio = source.audio[: int(seconds * 22050)]
    engine = Engine(manager, tracker, session_for(score, tracker, str(audio_path)), control or Control())
    return engine, source
