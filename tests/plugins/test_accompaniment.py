"""The accompaniment adapter: MIDI file reading, the bar map, the soloist model, and whole sessions played
to a real JACK MIDI port against a synthetic soloist with a known tempo curve."""

import threading
import time
import uuid
from argparse import Namespace

import mido
import pytest

from sheetsync.engine import Config, Control
from sheetsync.errors import SheetsyncError
from sheetsync_accompaniment import barmap, midifile, synthetic
from sheetsync_accompaniment.soloist import Soloist

TPB = 480


def write_midi(path, *tracks, ticks_per_beat=TPB):
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    midi.save(path)
    return str(path)


# --- reading MIDI files -------------------------------------------------------------------------------------

def test_bars_follow_the_time_signatures_and_notes_are_paired(tmp_path):
    path = write_midi(tmp_path / "a.mid", [
        mido.MetaMessage("time_signature", numerator=3, denominator=4),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)),
        mido.Message("program_change", program=32, channel=1),
        mido.Message("note_on", note=40, velocity=70, channel=1),
        mido.Message("note_on", note=40, velocity=0, channel=1, time=TPB),  # velocity 0 = off
        mido.Message("note_on", note=43, velocity=60, time=TPB),
        mido.Message("note_on", note=43, velocity=61, time=TPB),  # struck again without an off
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=3 * TPB),  # bar 3 is 4/4
        mido.Message("note_off", note=43, time=8 * TPB),
    ])
    song = midifile.load(path)
    assert song.bar_starts[:4] == (0, 3 * TPB, 6 * TPB, 10 * TPB)
    assert song.bar_lengths[:3] == (3 * TPB, 3 * TPB, 4 * TPB)
    assert song.bars == 4 and song.end == 14 * TPB
    assert [(n.start, n.end, n.channel, n.note, n.velocity) for n in song.notes] == [
        (0, TPB, 1, 40, 70), (2 * TPB, 3 * TPB, 0, 43, 60), (3 * TPB, 14 * TPB, 0, 43, 61)]
    assert [m.program for _, m in song.controls] == [32]
    assert song.tick_at(3.5) == 6 * TPB + 2 * TPB
    assert song.bar_at(song.tick_at(2.25)) == pytest.approx(2.25)
    assert song.ticks_per_second(0) == pytest.approx(TPB * 90 / 60)


def test_a_file_without_tempo_or_signature_is_4_4_at_120(tmp_path):
    path = write_midi(tmp_path / "plain.mid", [mido.Message("note_on", note=60, velocity=80),
                                               mido.Message("note_off", note=60, time=9 * TPB)])
    song = midifile.load(path)
    assert song.bar_starts == (0, 4 * TPB, 8 * TPB)
    assert song.ticks_per_second(5 * TPB) == pytest.approx(TPB * 2)


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (b"MThd not really", "is not a readable MIDI file"),
])
def test_unreadable_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.mid"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SheetsyncError, match=f"'{path}' {message}"):
        midifile.load(path)


def test_a_file_without_notes_is_refused(tmp_path):
    path = write_midi(tmp_path / "empty.mid", [mido.MetaMessage("set_tempo", tempo=500000)])
    with pytest.raises(SheetsyncError, match="has no notes"):
        midifile.load(path)


def test_the_shipped_example_accompanies_the_example_chorale():
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "bach-bwv40.6-accompaniment.mid"
    song = midifile.load(path)
    assert song.bars == 16 and path.stat().st_size < 50_000  # the chorale's 16 measures of 4/4
    assert {n.channel for n in song.notes} == {0, 1, 2}
    assert sum(n.start == 0 for n in song.notes) == 3  # alto, tenor and bass start together


# --- the bar map -------------------------------------------------------------------------------------------

def test_default_map_counts_measures_and_offset_shifts_them():
    assert barmap.BarMap().to_bar(12.4) == pytest.approx(12.4)
    assert barmap.parse({"offset": 1}).to_bar(3.5) == pytest.approx(4.5)
    assert barmap.parse({"offset": -2}).to_bar(2.5) is None  # before the accompaniment's first bar


def test_pickup_is_the_end_of_its_bar():
    pickup = barmap.parse({"pickup": 0.25})
    assert pickup.to_bar(1.0) == pytest.approx(1.75)
    assert pickup.to_bar(1.5) == pytest.approx(1.875)
    assert pickup.to_bar(2.5) == pytest.approx(2.5)


def test_segments_play_repeats_and_leave_gaps_silent():
    bars = barmap.parse({"segment": [{"score": [1, 8], "bar": 1}, {"score": [9, 16], "bar": 1},
                                     {"score": [20, 21], "bar": 9}]})
    assert bars.to_bar(3.5) == pytest.approx(3.5)
    assert bars.to_bar(11.25) == pytest.approx(3.25)  # the repeat plays bars 1-8 again
    assert bars.to_bar(17.0) is None
    assert bars.to_bar(21.5) == pytest.approx(10.5)


@pytest.mark.parametrize("table, message", [
    ({"ofset": 1}, "unknown key.*ofset"),
    ({"offset": 1.5}, "offset must be a whole number"),
    ({"pickup": 1.5}, "pickup must be a fraction"),
    ({"offset": 1, "segment": [{"score": [1, 2], "bar": 1}]}, "give either 'offset' or"),
    ({"segment": [{"score": [1, 2]}]}, "segment 1: missing bar"),
    ({"segment": [{"score": [3, 2], "bar": 1}]}, "segment 1: score must be \\[first, last\\]"),
    ({"segment": [{"score": [1, 2], "bar": 0}]}, "segment 1: bar must be"),
    ({"segment": [{"score": [1, 4], "bar": 1}, {"score": [4, 6], "bar": 1}]},
     "segments score = .1, 4. and .4, 6. overlap"),
])
def test_bad_maps_say_what_is_wrong(table, message):
    with pytest.raises(SheetsyncError, match=f"map.toml: {message}"):
        barmap.parse(table, "map.toml")


def test_map_files_are_read_and_checked_against_the_accompaniment(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text("[[segment]]\nscore = [1, 4]\nbar = 3\n")
    bars = barmap.load(path)
    bars.check_bars(6, str(path))
    with pytest.raises(SheetsyncError, match="needs accompaniment bars 3-6, but the MIDI file has 5 bars"):
        bars.check_bars(5, str(path))
    path.write_text("offset = \n")
    with pytest.raises(SheetsyncError, match=f"'{path}' is not valid TOML"):
        barmap.load(path)


def test_accompany_needs_a_midi_output(tmp_path):
    import sheetsync_accompaniment

    args = Namespace(accompany=synthetic_file(tmp_path), accompany_map=None, accompany_confidence=0.0, midi_out=None)
    with pytest.raises(SheetsyncError, match="--accompany needs a MIDI output"):
        sheetsync_accompaniment.sheetsync_configure(config=Config(args, Control()))


# --- the soloist model ---------------------------------------------------------------------------------------

def feed(soloist, bpm, seconds, start=0.0, beat=0.0):
    """Positions at 20/s for `seconds` at `bpm`; returns (time, beat) after the last."""
    t = start
    for _ in range(int(seconds * 20)):
        soloist.update(t, beat * TPB)
        t += 0.05
        beat += bpm / 60 * 0.05
    return t, beat


def test_tempo_is_estimated_from_the_positions():
    soloist = Soloist(TPB)
    soloist.fallback = TPB * 2.0
    feed(soloist, 90, 2.0)
    assert soloist.rate == pytest.approx(TPB * 1.5, rel=0.01)


def test_jitter_back_and_forth_averages_out_of_the_tempo():
    import random

    rng = random.Random(1)
    soloist = Soloist(TPB)
    for frame in range(60):  # 3 s at 90 BPM, each position off by up to a tenth of a beat either way
        t = frame * 0.05
        soloist.update(t, (1.5 * t + rng.uniform(-0.1, 0.1)) * TPB)
    assert soloist.rate == pytest.approx(TPB * 1.5, rel=0.05)
    assert soloist.now(3.0) == pytest.approx(4.5 * TPB, abs=0.2 * TPB)


def test_a_stall_stops_the_soloist_and_keeps_the_tempo():
    soloist = Soloist(TPB, hold=0.1)
    t, beat = feed(soloist, 120, 2.0)
    for step in range(40):  # two seconds on the same spot
        soloist.update(t + step * 0.05, beat * TPB)
    assert soloist.now(t + 2.0) == pytest.approx(beat * TPB + TPB * 2 * 0.1, abs=1)
    assert soloist.stalled_for(t + 2.0) > 1.8
    assert soloist.rate == pytest.approx(TPB * 2, rel=0.01)


def test_a_jump_is_confirmed_by_consistent_positions_and_a_glitch_is_not():
    soloist = Soloist(TPB, confirm=3)
    t, beat = feed(soloist, 120, 2.0, beat=16)
    assert soloist.update(t, 2 * TPB) is None  # one stray position: ignored
    t, beat = feed(soloist, 120, 0.5, start=t + 0.05, beat=beat + 0.1)
    assert soloist.now(t) == pytest.approx(beat * TPB, rel=0.02)
    results = [soloist.update(t + i * 0.05, (4 + i * 0.1) * TPB) for i in range(3)]
    assert results[:2] == [None, None] and results[2] == pytest.approx(4.2 * TPB)
    assert soloist.now(t + 0.1) == pytest.approx(4.2 * TPB)


def test_the_playhead_tracks_a_tempo_curve_on_a_simulated_clock(tmp_path):
    """The scheduler's own error, without threads or ports: 1 ms steps, exact positions at 20/s."""
    from sheetsync_accompaniment.player import Player

    class Collect:
        def __init__(self):
            self.sent = []

        def send(self, message):
            self.sent.append((clock, message))

    port = Collect()
    player = Player(midifile.load(synthetic_file(tmp_path)), lambda: port)
    player.port = port
    performance = synthetic.Performance([(0, 100), (4, 132), (7, 132), (12, 84)], 12.0)
    for step in range(12000):
        clock = step / 1000
        if step % 50 == 0:
            player.feed(clock, 1 + performance.beat_at(clock) / 4, None, 0.9)
        player.step(clock, 0.001)
    onsets = [(t, m.note - synthetic.FIRST_PITCH) for t, m in port.sent if m.type == "note_on"]
    assert [beat for _, beat in onsets] == list(range(24))
    errors = [abs(t - performance.beat_times(beat)[0]) for t, beat in onsets]
    assert max(errors) < 0.015, errors  # a tempo estimate over 1 s trails a 10 BPM/s ritardando by ~10 ms


# --- whole sessions on a JACK MIDI port ------------------------------------------------------------------------

def synthetic_file(folder, beats=60):
    path = str(folder / "beats.mid")
    synthetic.beat_file(path, beats)
    return path


@pytest.fixture
def receiver(jack_server):
    """A JACK MIDI input recording what arrives; yields (port name, recorder)."""
    from sheetsync_midi.ports import open_input

    name = f"acc-{uuid.uuid4().hex[:6]}"
    port = open_input(f"virtual:{name}", client=f"receiver-{name}")
    recorder = synthetic.Recorder(port)
    time.sleep(0.2)
    yield name, recorder
    port.close()


def session(tmp_path, receiver, performance):
    """Play one session; returns (start, note-ons as (seconds since start, beat)), after checking that it
    shut down cleanly: every note-on ended, no thread left behind, the port given back."""
    from sheetsync_midi.ports import SharedOutput

    name, recorder = receiver
    threads = set(threading.enumerate())
    start = synthetic.play_session(synthetic_file(tmp_path), name, performance)
    time.sleep(0.3)  # let the last messages arrive
    ons, offs = recorder.note_ons(), recorder.note_offs()
    assert sorted(n for _, n in ons) == sorted(n for _, n in offs)  # every note-on got its note-off
    assert set(threading.enumerate()) == threads
    assert name not in SharedOutput._open
    return start, [(t - start, note - synthetic.FIRST_PITCH) for t, note in ons]


# Lag tolerance: 50 ms per onset, 20 ms median. The positions are exact, so what remains is the adapter's own
# error (its tempo estimate trails a ritardando of ~10 BPM/s by ~10 ms), the dummy JACK server delivering
# MIDI once per 11.6 ms period (256 frames at 22,050 Hz), and thread wake-ups on a busy 2-core machine.
# 50 ms is also about where ensemble players start to hear an onset as not together.
TOLERANCE, MEDIAN_TOLERANCE = 0.050, 0.020


def test_accompaniment_follows_a_tempo_curve(tmp_path, receiver):
    performance = synthetic.Performance([(0, 100), (4, 132), (7, 132), (12, 84)], 12.0)
    start, ons = session(tmp_path, receiver, performance)
    beats = [beat for _, beat in ons]
    assert beats == list(range(int(performance.beat_at(12.0)) + 1))  # every beat once, in order
    lags = sorted(abs(t - performance.beat_times(beat)[0]) for t, beat in ons)
    assert lags[len(lags) // 2] < MEDIAN_TOLERANCE, lags
    assert lags[-1] < TOLERANCE, lags


def test_accompaniment_waits_through_a_fermata(tmp_path, receiver):
    # 120 BPM; the soloist holds beat 6 (the middle of bar 2) from 3.0 s to 5.0 s
    performance = synthetic.Performance([(0, 120), (8, 120)], 7.0, stall=(3.0, 2.0))
    start, ons = session(tmp_path, receiver, performance)
    assert [beat for t, beat in ons if 3.1 < t < 5.0] == []  # nothing beyond the held beat
    times = {beat: t for t, beat in ons}
    assert abs(times[6] - 3.0) < TOLERANCE
    assert abs(times[7] - 5.5) < TOLERANCE and abs(times[8] - 6.0) < TOLERANCE  # on time again after it
    released = [t - start for t, note in receiver[1].note_offs() if note == synthetic.FIRST_PITCH + 6]
    assert released[0] > 5.0  # the held note sounds while the soloist holds


def test_accompaniment_relocates_after_a_jump_back(tmp_path, receiver):
    # 120 BPM; at 4.0 s (beat 8) the soloist jumps back to beat 1.5 and goes on from there
    performance = synthetic.Performance([(0, 120), (8, 120)], 6.5, jump=(4.0, 1.5))
    start, ons = session(tmp_path, receiver, performance)
    after = [(t, beat) for t, beat in ons if t > 4.0 + TOLERANCE]
    assert after[0][1] == 2 and abs(after[0][0] - 4.25) < TOLERANCE  # beat 2 is due 0.25 s after the jump
    assert [beat for _, beat in after] == list(range(2, 2 + len(after)))
    cut = [t - start for t, note in receiver[1].note_offs() if note == synthetic.FIRST_PITCH + 8]
    assert 4.0 < cut[0] < 4.25  # the note sounding at the jump stopped when re-located (not at its end)


def test_a_missing_port_is_retried_and_never_stops_the_session(tmp_path, jack_server, caplog):
    from sheetsync_midi.ports import open_input

    name = f"late-{uuid.uuid4().hex[:6]}"
    threads = set(threading.enumerate())
    late = {}

    def open_receiver_later():
        time.sleep(1.0)  # the synth starts a second after the performance
        late["port"] = port = open_input(f"virtual:{name}", client=f"receiver-{name}")
        late["recorder"] = synthetic.Recorder(port)

    opener = threading.Thread(target=open_receiver_later)
    opener.start()
    try:
        performance = synthetic.Performance([(0, 120), (8, 120)], 4.4)
        synthetic.play_session(synthetic_file(tmp_path), name, performance)
        opener.join()
        time.sleep(0.3)
        beats = [note - synthetic.FIRST_PITCH for t, note in late["recorder"].note_ons()]
    finally:
        opener.join()
        if "port" in late:
            late["port"].close()
    assert sum("trying again" in r.getMessage() for r in caplog.records) == 1  # logged once
    assert beats and beats == list(range(beats[0], 9)) and beats[0] <= 6  # playing once the port is there
    assert set(threading.enumerate()) == threads
