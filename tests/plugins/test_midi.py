"""The MIDI adapter: cue files, cue rules on jumps, controllers, and everything read back from a JACK port."""

import argparse
import logging
import threading
import time
from pathlib import Path

import pytest

import sheetsync_midi as plugin
from sheetsync.engine import Config, Control
from sheetsync.errors import SheetsyncError
from sheetsync.events import PageInfo, Position, Session
from sheetsync_midi import continuous, cuefile, output
from sheetsync_midi.cues import CueList
from sheetsync_midi.ports import SharedOutput
from tests.plugins.midi_receiver import Receiver

EXAMPLE = Path(__file__).parents[2] / "examples" / "cues.toml"


def at(measure=None, progress=0.0, page=1, confidence=0.9, frame=0):
    return Position(time=frame / 20, frame=frame, page=page, x=0.5, y=0.5, system=1,
                    measure=None if measure is None else int(measure), progress=progress, confidence=confidence,
                    tempo=None, measure_position=measure)


def cue_file(tmp_path, text, name="cues.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---- the cue file format ----

def test_example_cue_file_loads():
    loaded = cuefile.load(str(EXAMPLE))
    assert [c.label for c in loaded.cues] == ["cue 1 (organ)", "cue 2 (pedal)", "cue 3 (chime)",
                                              "cue 4 (page 2 lights)", "cue 5 (coda)"]
    pedal = loaded.cues[1]
    assert (pedal.axis, pedal.start, pedal.end, pedal.send[0].message.channel) == ("measure", 1.0, 5.0, 1)
    assert loaded.cues[2].send[0].message.note == 79 and loaded.cues[2].send[0].duration == 1.5  # G5
    assert loaded.cues[0].send[0].message.program == 19  # General MIDI 20, zero-based on the wire


def test_yaml_cue_file_reads_like_toml(tmp_path):
    path = cue_file(tmp_path, "cue:\n  - measure: 3\n    send:\n      - {note: Bb3, duration: 0.5}\n", "cues.yaml")
    (cue,) = cuefile.load(path).cues
    assert (cue.start, cue.send[0].message.note, cue.send[0].duration) == (3.0, 58, 0.5)


@pytest.mark.parametrize("text, expected", [
    ("[[cue]]\nmeasure = 3\nsend = [{ note = 200 }]", "cue 1: send message 1: note 200 is out of range 0-127"),
    ("[[cue]]\nname = 'x'\nmeasure = 3\nsend = [{ note = 'H4' }]", "cue 1 (x): send message 1: note 'H4' is not"),
    ("[[cue]]\nsend = [{ note = 60 }]", "cue 1: no position"),
    ("[[cue]]\nmeasure = 2\n[[cue]]\nmeasure = 3\nsend = [{ cc = 7 }]", "cue 1: nothing to send"),
    ("[[cue]]\nmeasure = 2\nsend = [{ cc = 7 }]", "cue 1: send message 1: cc 7 needs a value"),
    ("[[cue]]\nmeasure = 2\nchannel = 17\nsend = [{ program = 1 }]", "cue 1: channel must be a whole number from 1 to 16"),
    ("[[cue]]\nmeasure = 2\nsend = [{ program = 0 }]", "program must be a whole number from 1 to 128"),
    ("[[cue]]\nmeasure = 2\nsend = [{ cc = 1, value = 3, duration = 1 }]", "duration does not apply to cc"),
    ("[[cue]]\nmeasure = 2\nsend = [{ note = 60, cc = 1 }]", "exactly one of note, note_off, cc or program"),
    ("[[cue]]\nmeasures = [5, 2]\nsend = [{ note = 60 }]", "measures range [5, 2] must have"),
    ("[[cue]]\nmeasure = 2\nprogress = 0.5\nsend = [{ note = 60 }]", "give one of measure, measures or progress"),
    ("[[cue]]\nmeasure = 2\nexit = [{ note = 60 }]\nsend = [{ note = 60 }]", "exit messages need a range"),
    ("[[cue]]\nmeasure = 2\nskipped = 'later'\nsend = [{ note = 60 }]", "skipped must be \"drop\" or \"fire\""),
    ("[[cue]]\nmesure = 2\nsend = [{ note = 60 }]", "cue 1: unknown key(s) mesure"),
    ("[defaults]\nmargin = -1\n[[cue]]\nmeasure = 1\nsend = [{ note = 60 }]", "[defaults]: margin must be"),
    ("title = 'x'", "unknown top-level key(s) title"),
    ("[[cue]\nmeasure = 1", "not valid TOML"),
])
def test_bad_cue_files_name_the_file_the_cue_and_the_fault(tmp_path, text, expected):
    path = cue_file(tmp_path, text)
    with pytest.raises(SheetsyncError) as error:
        cuefile.load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)


def test_missing_cue_file_is_named(tmp_path):
    with pytest.raises(SheetsyncError, match="MIDI cue file '.*nope.toml' does not exist"):
        cuefile.load(str(tmp_path / "nope.toml"))


# ---- the cue rules ----

def fired(cues, *positions):
    """The notes sent (note-ons as +n, note-offs as -n) at each position (measure, progress)."""
    result = []
    for measure, progress in positions:
        actions = cues.update(measure, progress)
        result.append([a.message.note if a.message.type == "note_on" else -a.message.note for a in actions])
    return result


def cues_from(tmp_path, text):
    return CueList(cuefile.load(cue_file(tmp_path, text)))


POINTS = """
[[cue]]
measure = 3
send = [{ note = 3 }]
[[cue]]
measure = 5
skipped = "fire"
send = [{ note = 5 }]
[[cue]]
measure = 7
send = [{ note = 7 }]
"""


def test_point_cues_fire_once_on_reaching_and_ignore_wobble(tmp_path):
    cues = cues_from(tmp_path, POINTS)
    played = [(m, None) for m in (2.9, 3.0, 3.02, 2.98, 3.1, 4.9, 5.05)]
    assert fired(cues, *played) == [[], [3], [], [], [], [], [5]]


def test_forward_jump_drops_or_fires_skipped_cues_by_policy(tmp_path):
    cues = cues_from(tmp_path, POINTS)
    # from measure 2 to 7.2: cue 3 dropped, cue 5 fired late ("fire"), cue 7 reached (within the margin)
    assert fired(cues, (2.0, None), (7.2, None)) == [[], [5, 7]]


def test_backward_jump_rearms_the_cues_behind_the_new_position(tmp_path):
    cues = cues_from(tmp_path, POINTS)
    fired(cues, *[(m / 10, None) for m in range(20, 80)])  # plays through all three cues
    # back to 4.8: cue 3 stays done, cues 5 and 7 are armed again and fire when reached
    assert fired(cues, (4.8, None), (5.0, None), (6.0, None), (7.0, None)) == [[], [5], [], [7]]


def test_following_that_starts_late_treats_earlier_cues_as_skipped(tmp_path):
    cues = cues_from(tmp_path, POINTS)
    assert fired(cues, (6.0, None)) == [[5]]  # 3 dropped, 5 fired late, 7 not reached yet


def test_range_cues_enter_leave_and_release_their_held_notes(tmp_path):
    cues = cues_from(tmp_path, """
[[cue]]
measures = [4, 5]
send = [{ note = 40 }, { note = 41, duration = 1.0 }]
exit = [{ note = 90, duration = 0.1 }]
""")
    # enters at 4, wobble at the end (6.0 -> 5.98) does not re-enter, leaving sends note-off 40 and the exit note
    assert fired(cues, (3.9, None), (4.0, None), (5.5, None), (6.0, None), (5.98, None)) == \
        [[], [40, 41], [], [-40, 90], []]
    # a jump back into the middle enters again; a jump before the range leaves it
    assert fired(cues, (4.5, None), (1.0, None)) == [[40, 41], [-40, 90]]
    fired(cues, (4.2, None))
    assert [a.message.note for a in cues.release_all()] == [40, 90]


def test_progress_cues_and_page_relative_cues(tmp_path):
    cues = cues_from(tmp_path, """
[[cue]]
progress = 0.5
send = [{ note = 50 }]
[[cue]]
page = 2
measure = 2
send = [{ note = 22 }]
[[cue]]
page = 3
send = [{ note = 33 }]
""")
    cues.resolve_pages({1: 1, 2: 9, 3: None})  # page 2 starts with measure 9; page 3 unknown: its cue is off
    assert fired(cues, (9.5, 0.3), (10.0, 0.49), (10.1, 0.5)) == [[], [22], [50]]
    assert len(cues.cues) == 2


# ---- continuous controllers ----

def test_controllers_encode_7_bit_14_bit_and_nrpn_and_send_only_changes():
    seven = continuous.parse("measure:cc:20")
    fourteen = continuous.parse("progress:cc14:1:3")
    nrpn = continuous.parse("progress:nrpn:300:16")
    position = at(measure=12.3, progress=0.5)
    assert [m.bytes() for m in seven.messages(position)] == [[0xB0, 20, 12]]
    assert [m.bytes() for m in fourteen.messages(position)] == [[0xB2, 1, 64], [0xB2, 33, 0]]  # 8192 = 64 * 128
    assert [m.bytes() for m in nrpn.messages(position)] == [[0xBF, 99, 2], [0xBF, 98, 44], [0xBF, 6, 64],
                                                            [0xBF, 38, 0]]  # 300 = 2 * 128 + 44
    assert seven.messages(at(measure=12.9, progress=0.5)) == []  # unchanged values are not sent again
    assert fourteen.messages(at(measure=12.9, progress=0.5)) == []
    assert [m.bytes() for m in fourteen.messages(at(measure=13, progress=1.0))] == [[0xB2, 1, 127], [0xB2, 33, 127]]
    assert seven.messages(at(measure=None)) == []


@pytest.mark.parametrize("spec, expected", [
    ("tempo:cc:1", "source must be one of"), ("measure:pitch:1", "kind must be cc"),
    ("progress:cc14:32", "cc14 number must be 0-31"), ("measure:cc:1:0", "channel must be 1-16"),
    ("measure", "expected SOURCE:KIND:NUMBER"),
])
def test_bad_controller_options_are_one_line_errors(spec, expected):
    with pytest.raises(SheetsyncError, match=expected):
        continuous.parse(spec)


# ---- end to end, through a real JACK MIDI port ----

def configure(*argv):
    parser = argparse.ArgumentParser()
    plugin.sheetsync_addoption(parser=parser)
    plugin.sheetsync_configure(config=Config(parser.parse_args(list(argv)), Control()))


SESSION = Session(title="t", score="t.pdf", pages=(PageInfo(1, 100, 100, first_measure=1),
                                                   PageInfo(2, 100, 100, first_measure=9)), fps=20.0, source="test")


def perform(positions, seconds_per_frame=0.0):
    plugin.sheetsync_session_start(session=SESSION)
    try:
        for position in positions:
            plugin.sheetsync_position(position=position)
            time.sleep(seconds_per_frame)
    finally:
        plugin.sheetsync_session_end(session=SESSION, reason="end")


def midi_threads():
    return [t for t in threading.enumerate() if t.name.startswith("sheetsync-midi")]


def test_cues_and_controllers_reach_a_jack_port_and_nothing_is_left_sounding(jack_server, tmp_path):
    receiver = Receiver("cue-sink")
    try:
        configure("--midi-out", "cue-sink", "--midi-map", str(EXAMPLE), "--midi-cc", "measure:cc:21",
                  "--midi-cc", "progress:cc14:1")
        # measures 1 to 12 over 120 frames, progress 0 to 1; then a jump back to measure 2
        frames = [at(measure=1 + i * 0.1, progress=i / 119, frame=i) for i in range(120)]
        frames += [at(measure=2.0 + i * 0.1, progress=0.1, frame=120 + i) for i in range(10)]
        perform(frames, seconds_per_frame=0.01)  # 5x the follower's 20 frames a second
        assert receiver.wait_for(lambda ms: sum(m.is_cc(123) for m in ms) == 16)  # the port's last release
        messages = receiver.messages()
        assert [m.program for m in messages if m.type == "program_change"] == [19]
        notes_on = [(m.channel, m.note) for m in messages if m.type == "note_on" and m.velocity > 0]
        notes_off = [(m.channel, m.note) for m in messages if m.type == "note_off"]
        assert notes_on == [(1, 36), (0, 79), (0, 60), (0, 64), (0, 67), (1, 36)]  # pedal again after the jump
        assert sorted(notes_on) == sorted(notes_off)  # every note-on got its note-off
        assert [m.value for m in messages if m.is_cc(20)] == [127]  # page 2, measure 1 = printed measure 9
        assert [m.value for m in messages if m.is_cc(21)] == list(range(1, 13)) + [2]
        coarse = [m.value for m in messages if m.is_cc(1) and m.channel == 0]
        assert coarse[0] == 0 and coarse[-2] == 127 and len(coarse) > 60
    finally:
        receiver.close()
    assert midi_threads() == [] and SharedOutput._open == {}


def test_a_note_with_a_duration_is_released_on_time(jack_server, tmp_path):
    receiver = Receiver("duration-sink")
    try:
        configure("--midi-out", "duration-sink", "--midi-map",
                  cue_file(tmp_path, "[[cue]]\nmeasure = 1\nsend = [{ note = 61, duration = 0.3 }]"))
        plugin.sheetsync_session_start(session=SESSION)
        plugin.sheetsync_position(position=at(measure=1.0))
        assert receiver.wait_for(lambda ms: any(m.type == "note_off" for m in ms), timeout=3)
        plugin.sheetsync_session_end(session=SESSION, reason="end")
        events = [(t, m) for t, m in receiver.events if m.type in ("note_on", "note_off")]
        assert [m.type for _, m in events] == ["note_on", "note_off"]
        assert 0.25 < events[1][0] - events[0][0] < 0.6
    finally:
        receiver.close()


def test_an_absent_port_is_logged_once_and_retried_until_it_appears(jack_server, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(output, "RETRY_SECONDS", 0.2)
    configure("--midi-out", "late-synth", "--midi-cc", "measure:cc:7")
    plugin.sheetsync_session_start(session=SESSION)
    receiver = None
    try:
        with caplog.at_level(logging.WARNING):
            for i in range(10):
                plugin.sheetsync_position(position=at(measure=1 + i, frame=i))
                time.sleep(0.05)
            receiver = Receiver("late-synth")
            for i in range(10, 40):
                plugin.sheetsync_position(position=at(measure=1 + i, frame=i))
                time.sleep(0.05)
        assert receiver.wait_for(lambda ms: len([m for m in ms if m.is_cc(7)]) >= 5)
        values = [m.value for m in receiver.messages() if m.is_cc(7)]
        assert values == sorted(values) and values[-1] == 40  # following went on; later measures arrive
        assert sum("no MIDI output port matches 'late-synth'" in r.message for r in caplog.records) == 1
    finally:
        plugin.sheetsync_session_end(session=SESSION, reason="interrupted")
        if receiver is not None:
            receiver.close()
    assert midi_threads() == [] and SharedOutput._open == {}


def test_a_receiver_that_vanishes_mid_session_never_stops_following(jack_server):
    receiver = Receiver("vanishing-synth")
    configure("--midi-out", "vanishing-synth", "--midi-cc", "measure:cc:7")
    plugin.sheetsync_session_start(session=SESSION)
    try:
        for i in range(40):
            if i == 20:
                receiver.close()  # the synth quits
            plugin.sheetsync_position(position=at(measure=1 + i, frame=i))
            time.sleep(0.01)
    finally:
        plugin.sheetsync_session_end(session=SESSION, reason="end")
    assert midi_threads() == [] and SharedOutput._open == {}


def test_options_are_checked_when_configured(tmp_path):
    with pytest.raises(SheetsyncError, match="need --midi-out"):
        configure("--midi-cc", "measure:cc:1")
    with pytest.raises(SheetsyncError, match="does not exist"):
        configure("--midi-out", "x", "--midi-map", str(tmp_path / "none.toml"))
    configure()  # no MIDI options: the plugin stays off
    perform([at(measure=1.0)])
    assert midi_threads() == []


def test_the_plugin_is_installed_under_the_sheetsync_entry_point():
    from sheetsync.plugins import plugin_manager

    assert plugin_manager().get_plugin("midi") is plugin
