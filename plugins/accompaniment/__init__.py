"""sheetsync adapter: `--accompany FILE.mid --midi-out PORT` plays a MIDI accompaniment in step with the soloist.

See README.md in this folder for the map file, how the tempo is followed, fermatas and jumps.
"""

from __future__ import annotations

import logging
import time

from sheetsync import hookimpl
from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)
_state: dict = {}  # "settings" after configure, "player" and "port" during a session


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--accompany", metavar="FILE.mid",
                        help="play this MIDI file in step with the performer (needs --midi-out)")
    parser.add_argument("--accompany-map", metavar="FILE.toml",
                        help="which accompaniment bar each score measure plays (pickup, offset, repeats)")
    parser.add_argument("--accompany-confidence", metavar="X", type=float, default=0.0,
                        help="ignore positions whose confidence is below X (0-1; default 0): "
                             "the accompaniment waits instead")


@hookimpl
def sheetsync_configure(config):
    from sheetsync_accompaniment import barmap, midifile

    _state.clear()
    args = config.args
    if not getattr(args, "accompany", None):
        return
    spec = getattr(args, "midi_out", None)
    if isinstance(spec, (list, tuple)):
        spec = spec[0] if spec else None
    if not spec:
        raise SheetsyncError("--accompany needs a MIDI output: add --midi-out PORT (or virtual:NAME)")
    accompaniment = midifile.load(args.accompany)
    bar_map = barmap.load(args.accompany_map) if getattr(args, "accompany_map", None) else barmap.BarMap()
    bar_map.check_bars(accompaniment.bars, f"accompaniment map '{args.accompany_map}'")
    if getattr(args, "audio", None) and not getattr(args, "realtime", True):
        log.warning("accompaniment: --audio without --realtime runs faster than real time; "
                    "add --realtime to hear the accompaniment follow the recording")
    _state["settings"] = (spec, accompaniment, bar_map, getattr(args, "accompany_confidence", 0.0) or 0.0)


@hookimpl
def sheetsync_session_start(session):
    from sheetsync_accompaniment.player import Player
    from sheetsync_midi.ports import SharedOutput

    if "settings" not in _state:
        return
    spec, accompaniment, bar_map, confidence = _state["settings"]
    _state["port"] = spec
    _state["player"] = player = Player(accompaniment, lambda: SharedOutput.acquire(spec), bar_map,
                                       min_confidence=confidence)
    player.start()


@hookimpl
def sheetsync_position(position):
    player = _state.get("player")
    if player is not None:
        player.feed(time.monotonic(), getattr(position, "measure_position", None), position.tempo,
                    position.confidence)


@hookimpl
def sheetsync_session_end(session, reason):
    from sheetsync_midi.ports import SharedOutput

    player = _state.pop("player", None)
    spec = _state.pop("port", None)
    if player is None:
        return
    try:
        player.stop()
    finally:
        if player.port is not None:
            SharedOutput.release(spec)
