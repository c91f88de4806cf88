"""sheetsync adapter: a DAW's transport follows the performer.

`--midi-clock PORT` sends MIDI clock, Song Position and Start/Continue/Stop; `--reaper HOST:PORT` drives
Reaper over its native OSC; `--link` shares the tempo over Ableton Link. README.md has the set-up per DAW.
"""

from __future__ import annotations

import time

from sheetsync import hookimpl
from sheetsync.errors import SheetsyncError
from sheetsync_dawsync.transport import Steering

_syncs: list = []
_settings: dict | None = None
SETTLE_SECONDS = 0.25  # after a relocation, the DAW's new place is trusted before judging it again


class ClockSync:
    """The MIDI clock master steered after the performer."""

    def __init__(self, spec: str, steering: Steering):
        from sheetsync_dawsync.clock import MidiClock

        self.steering = steering
        self.clock = MidiClock(spec)
        self._started = False
        self._settle_until = 0.0

    def position(self, position) -> None:
        beat, bpm = self.steering.beat(position), self.steering.tempo(position)
        if beat is None or bpm is None:
            return
        now = time.monotonic()
        if not self._started:
            self._started = True
            self._settle_until = now + SETTLE_SECONDS
            self.clock.start(beat, bpm)
            return
        daw = self.clock.beat_now()
        if daw is None or now < self._settle_until:
            self.clock.set_tempo(bpm)
        elif self.steering.is_jump(beat, daw):
            self._settle_until = now + SETTLE_SECONDS
            self.clock.locate(beat, bpm)
        else:
            self.clock.set_tempo(self.steering.bend(bpm, beat, daw))

    def close(self) -> None:
        self.clock.close()


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--midi-clock", metavar="PORT|virtual:NAME",
                        help="send MIDI clock, song position and start/continue/stop at the performer's tempo "
                             "(a DAW set to follow external MIDI clock plays along)")
    parser.add_argument("--reaper", metavar="HOST:PORT",
                        help="drive Reaper's transport over its native OSC (/time, /playrate/raw, /play, /stop)")
    parser.add_argument("--reaper-tempo", type=float, default=120.0, metavar="BPM",
                        help="the Reaper project's tempo: play rate = performer's BPM / this (default 120)")
    parser.add_argument("--reaper-offset", type=float, default=0.0, metavar="SECONDS",
                        help="project time where measure 1 starts in Reaper (default 0)")
    parser.add_argument("--link", action="store_true",
                        help="share the performer's tempo over Ableton Link (needs the 'link' extra: aalink)")
    parser.add_argument("--beats-per-measure", type=float, default=4.0, metavar="N",
                        help="quarter notes per measure, to turn measures per minute into BPM "
                             "(4/4: 4, 3/4: 3, 6/8: 3, 2/2: 4; default 4)")
    parser.add_argument("--sync-jump", type=float, default=1.0, metavar="MEASURES",
                        help="relocate the DAW when it is further than this from the performer (default 1)")


@hookimpl
def sheetsync_configure(config):
    global _settings
    args = config.args
    _settings = None
    if not (args.midi_clock or args.reaper or args.link):
        return
    if not args.beats_per_measure > 0:
        raise SheetsyncError(f"--beats-per-measure must be positive, not {args.beats_per_measure:g}")
    if not args.reaper_tempo > 0:
        raise SheetsyncError(f"--reaper-tempo must be positive, not {args.reaper_tempo:g}")
    if not args.sync_jump > 0:
        raise SheetsyncError(f"--sync-jump must be positive, not {args.sync_jump:g}")
    reaper = None
    if args.reaper:
        from sheetsync_dawsync.reaper import parse_address

        reaper = parse_address(args.reaper)
    if args.link:
        from sheetsync_dawsync.link import require_aalink

        require_aalink()
    _settings = {"clock": args.midi_clock, "reaper": reaper, "reaper_tempo": args.reaper_tempo,
                 "reaper_offset": args.reaper_offset, "link": args.link,
                 "beats": args.beats_per_measure, "jump": args.sync_jump}


def _steering() -> Steering:
    return Steering(beats_per_measure=_settings["beats"], jump_measures=_settings["jump"])


@hookimpl
def sheetsync_session_start(session):
    _close_all()
    if _settings is None:
        return
    if _settings["clock"]:
        _syncs.append(ClockSync(_settings["clock"], _steering()))
    if _settings["reaper"]:
        from sheetsync_dawsync.reaper import ReaperSync

        _syncs.append(ReaperSync(_settings["reaper"], _steering(), _settings["reaper_tempo"],
                                 _settings["reaper_offset"]))
    if _settings["link"]:
        from sheetsync_dawsync.link import LinkSync

        _syncs.append(LinkSync(_steering()))


@hookimpl
def sheetsync_position(position):
    for sync in _syncs:
        sync.position(position)


@hookimpl
def sheetsync_session_end(session, reason):
    _close_all()


def _close_all() -> None:
    while _syncs:
        _syncs.pop().close()
