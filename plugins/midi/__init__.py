"""sheetsync adapter: MIDI cues and continuous controllers on `--midi-out PORT|virtual:NAME`.

`--midi-map FILE` sends the messages of a cue file when the performer reaches their places (README.md has
the format); `--midi-cc SOURCE:KIND:NUMBER[:CHANNEL]` sends measure, progress or confidence as controllers.
Other adapters (the accompaniment) read `config.args.midi_out` and share the port through `SharedOutput`.
"""

from __future__ import annotations

from sheetsync import hookimpl
from sheetsync.errors import SheetsyncError
from sheetsync_midi import continuous, cuefile
from sheetsync_midi.cues import CueList
from sheetsync_midi.output import MidiSender

_adapter = None


class MidiAdapter:
    """One session's cues and controllers, sending through a MidiSender."""

    def __init__(self, spec: str, cue_file: cuefile.CueFile | None, controllers: list[continuous.Controller]):
        self.spec, self.cue_file, self.controllers = spec, cue_file, controllers
        self.cues: CueList | None = None
        self.sender: MidiSender | None = None

    def start(self, session) -> None:
        if self.cue_file is not None:
            self.cues = CueList(self.cue_file)
            self.cues.resolve_pages({page.number: page.first_measure for page in session.pages})
        for controller in self.controllers:
            controller.last = None
        self.sender = MidiSender(self.spec)

    def position(self, position) -> None:
        if self.sender is None:
            return
        actions = [] if self.cues is None else self.cues.update(position.measure_position, position.progress)
        for controller in self.controllers:
            actions.extend(cuefile.Action(message) for message in controller.messages(position))
        self.sender.send(actions)

    def end(self) -> None:
        if self.sender is None:
            return
        if self.cues is not None:
            self.sender.send(self.cues.release_all())
        self.sender.close()
        self.sender = None


@hookimpl
def sheetsync_addoption(parser):
    parser.add_argument("--midi-out", metavar="PORT|virtual:NAME",
                        help="MIDI output for cues, controllers and the accompaniment: a port name (or part of "
                             "one), or virtual:NAME to create a port others connect to")
    parser.add_argument("--midi-map", metavar="FILE",
                        help="cue file (TOML or YAML): MIDI messages sent at score positions (see the MIDI "
                             "plugin's README)")
    parser.add_argument("--midi-cc", action="append", default=[], metavar="SOURCE:KIND:NUMBER[:CHANNEL]",
                        help="send measure, progress or confidence as cc (7-bit), cc14 (pair n, n+32) or nrpn, "
                             "on change; e.g. progress:cc14:1, measure:nrpn:300:2 (repeatable)")


@hookimpl
def sheetsync_configure(config):
    global _adapter
    args = config.args
    _adapter = None
    if not (args.midi_map or args.midi_cc):
        return
    if not args.midi_out:
        raise SheetsyncError("--midi-map and --midi-cc need --midi-out PORT|virtual:NAME")
    cue_file = cuefile.load(args.midi_map) if args.midi_map else None
    _adapter = MidiAdapter(args.midi_out, cue_file, [continuous.parse(spec) for spec in args.midi_cc])


@hookimpl
def sheetsync_session_start(session):
    if _adapter is not None:
        _adapter.start(session)


@hookimpl
def sheetsync_position(position):
    if _adapter is not None:
        _adapter.position(position)


@hookimpl
def sheetsync_session_end(session, reason):
    if _adapter is not None:
        _adapter.end()
