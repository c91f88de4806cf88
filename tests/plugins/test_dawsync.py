"""DAW sync: MIDI clock read back from a JACK port, Reaper's OSC bytes at a UDP socket, Link with a second peer."""

import argparse
import asyncio
import logging
import socket
import struct
import threading
import time

import pytest

import sheetsync_dawsync as plugin
from sheetsync.engine import Config, Control
from sheetsync.errors import SheetsyncError
from sheetsync.events import Position, Session
from sheetsync_dawsync import clock as clock_module
from sheetsync_dawsync.transport import Steering
from sheetsync_midi.ports import SharedOutput
from tests.plugins.midi_receiver import Receiver

SESSION = Session(title="t", score="t.pdf", pages=(), fps=20.0, source="test")


def at(measure_position, tempo, frame=0):
    return Position(time=frame / 20, frame=frame, page=1, x=0.5, y=0.5, system=1,
                    measure=None if measure_position is None else int(measure_position), progress=0.5,
                    confidence=0.9, tempo=tempo, measure_position=measure_position)


def configure(*argv):
    parser = argparse.ArgumentParser()
    plugin.sheetsync_addoption(parser=parser)
    plugin.sheetsync_configure(config=Config(parser.parse_args(list(argv)), Control()))


def play(start_measure, tempo, seconds, frame=0):
    """Feed the plugin a performer at `tempo` measures per minute from `start_measure`, in real time at 20/s."""
    started = time.monotonic()
    count = 0
    while (elapsed := count / 20) < seconds:
        plugin.sheetsync_position(position=at(start_measure + elapsed * tempo / 60, tempo, frame + count))
        count += 1
        time.sleep(max(0.0, started + count / 20 - time.monotonic()))
    frame += count
    return start_measure + count / 20 * tempo / 60, frame


def sync_threads():
    return [t for t in threading.enumerate() if t.name.startswith(("sheetsync-clock", "sheetsync-link"))]


# ---- steering ----

def test_steering_turns_measures_into_quarter_beats_and_bends_within_limits():
    steering = Steering(beats_per_measure=3, jump_measures=1.0, catch_up_seconds=2.0, max_bend=0.1)
    assert steering.beat(at(5.5, 20)) == pytest.approx(13.5)  # 4.5 measures of 3/4
    assert steering.tempo(at(5.5, 20)) == 60  # 20 measures a minute of three beats
    assert steering.tempo(at(5.6, None)) == 60  # the last known tempo while the follower has none
    assert steering.bend(60, 10.0, 10.0) == 60
    assert steering.bend(60, 10.1, 10.0) == pytest.approx(63)  # 0.1 beat in 2 s: 3 BPM more
    assert steering.bend(60, 12.0, 10.0) == pytest.approx(66)  # at most 10 % faster
    assert steering.is_jump(10.0, 13.5) and not steering.is_jump(10.0, 12.5)
    assert steering.beat(at(None, 20)) is None and steering.beat(at(0.5, 20)) == 0  # a pickup counts as 0
    assert steering.tempo(at(5.5, 0.02)) == 20 and steering.tempo(at(5.5, 1000)) == 400  # what DAWs accept


# ---- MIDI clock through a JACK port ----

def clock_rate(events, since, until):
    """Ticks per second between two receiver times (first to last tick in the window)."""
    times = [t for t, m in events if m.type == "clock" and since <= t <= until]
    return (len(times) - 1) / (times[-1] - times[0])


def test_midi_clock_follows_the_performer_tempo_jumps_and_stops(jack_server):
    receiver = Receiver("clock-sink")
    try:
        configure("--midi-clock", "clock-sink", "--beats-per-measure", "4")
        plugin.sheetsync_session_start(session=SESSION)
        time.sleep(0.5)  # the port opens meanwhile (a follower needs a few frames for its first tempo too)
        measure, frame = play(1.0, 30.0, 2.5)  # 30 measures a minute of 4/4: 120 BPM, 48 ticks a second
        mark_jump = receiver.events[-1][0]
        measure, frame = play(9.0, 24.0, 2.5, frame)  # a jump to measure 9, then 96 BPM (38.4 ticks a second)
        plugin.sheetsync_session_end(session=SESSION, reason="end")
        assert receiver.wait_for(lambda ms: sum(m.is_cc(123) for m in ms) == 16)  # the port's release
        events = [(t, m) for t, m in receiver.events if m.type != "control_change"]
    finally:
        receiver.close()
    kinds = [m.type for _, m in events]
    assert kinds[:2] == ["songpos", "start"] and events[0][1].pos == 0
    transport = [(m.type, getattr(m, "pos", None)) for _, m in events if m.type != "clock"]
    assert transport == [("songpos", 0), ("start", None), ("stop", None), ("songpos", 128), ("continue", None),
                         ("stop", None)]  # measure 9 of 4/4 is sixteenth 128
    first = events[1][0]
    assert clock_rate(events, first + 0.5, mark_jump) == pytest.approx(48.0, rel=0.02)
    jump_time = next(t for t, m in events if m.type == "continue")
    assert clock_rate(events, jump_time + 1.5, events[-1][0]) == pytest.approx(38.4, rel=0.03)
    ticks_after_jump = sum(1 for t, m in events if m.type == "clock" and t > jump_time)
    daw_beat = 128 / 4 + ticks_after_jump / 24
    assert daw_beat == pytest.approx((measure - 1) * 4, abs=0.5)  # the DAW is where the performer is
    assert sync_threads() == [] and SharedOutput._open == {}


def test_clock_waits_for_a_tempo_and_a_missing_port_is_retried_then_resynchronised(jack_server, caplog,
                                                                                   monkeypatch):
    monkeypatch.setattr(clock_module, "RETRY_SECONDS", 0.2)
    configure("--midi-clock", "late-daw")
    plugin.sheetsync_session_start(session=SESSION)
    receiver = None
    try:
        with caplog.at_level(logging.WARNING):
            plugin.sheetsync_position(position=at(3.0, None))  # no tempo yet: nothing to start
            measure, frame = play(5.0, 30.0, 0.5)
            receiver = Receiver("late-daw")
            measure, frame = play(measure, 30.0, 1.0, frame)
        assert receiver.wait_for(lambda ms: any(m.type == "continue" for m in ms))
        transport = [m for m in receiver.messages() if m.type != "clock"]
        assert [m.type for m in transport[:3]] == ["stop", "songpos", "continue"]
        assert abs(transport[1].pos - (5.5 - 1) * 16) <= 16  # re-sent where the performer was when it appeared
        assert sum("no MIDI output port matches 'late-daw'" in r.message for r in caplog.records) == 1
    finally:
        plugin.sheetsync_session_end(session=SESSION, reason="interrupted")
        if receiver is not None:
            receiver.close()
    assert sync_threads() == [] and SharedOutput._open == {}


# ---- Reaper over OSC, at a real UDP socket ----

def osc(address, *floats):
    """An OSC message written out by hand: padded address, type tags, big-endian float32 arguments."""
    def padded(text):
        data = text.encode() + b"\0"
        return data + b"\0" * (-len(data) % 4)
    return padded(address) + padded("," + "f" * len(floats)) + b"".join(struct.pack(">f", v) for v in floats)


@pytest.fixture
def udp_receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def received(sock):
    packets = []
    try:
        while True:
            packets.append(sock.recv(1024))
    except socket.timeout:
        return packets


def test_reaper_gets_locate_rate_and_play_then_relocations_and_stop(udp_receiver):
    port = udp_receiver.getsockname()[1]
    configure("--reaper", f"127.0.0.1:{port}", "--reaper-tempo", "100", "--reaper-offset", "2.0")
    plugin.sheetsync_session_start(session=SESSION)
    play(3.0, 30.0, 0.6)  # 120 BPM against a 100 BPM project: rate 1.2
    play(11.0, 30.0, 0.3)  # jump to measure 11
    plugin.sheetsync_session_end(session=SESSION, reason="end")
    packets = received(udp_receiver)
    # measure 3 = beat 8 = 4.8 s at 100 BPM, after the 2 s offset
    assert packets[:3] == [osc("/time", 6.8), osc("/playrate/raw", 1.2), osc("/play")]
    relocations = [p for p in packets[3:] if p.startswith(b"/time\0")]
    assert len(relocations) == 1
    (seconds,) = struct.unpack(">f", relocations[0][-4:])
    assert seconds == pytest.approx(2.0 + 40 * 0.6, abs=0.05)  # measure 11 = beat 40
    assert packets[-2:] == [osc("/stop"), osc("/playrate/raw", 1.0)]
    rates = [struct.unpack(">f", p[-4:])[0] for p in packets[3:-2] if p.startswith(b"/playrate/raw\0")]
    assert all(1.08 <= r <= 1.32 for r in rates)  # bent at most 10 % around 1.2


def test_reaper_absent_never_stops_following():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there now
    configure("--reaper", f"127.0.0.1:{port}")
    plugin.sheetsync_session_start(session=SESSION)
    for frame in range(20):
        plugin.sheetsync_position(position=at(1 + frame / 40, 30.0, frame))
    plugin.sheetsync_session_end(session=SESSION, reason="end")


# ---- Ableton Link, with a second peer in this process ----

def test_link_peer_sees_the_performer_tempo(jack_server):
    aalink = pytest.importorskip("aalink")
    loop = asyncio.new_event_loop()
    peer = {}

    def run_peer():
        asyncio.set_event_loop(loop)

        async def open_peer():
            peer["link"] = aalink.Link(90)
            peer["link"].enabled = True
        loop.run_until_complete(open_peer())
        loop.run_forever()
        peer["link"].enabled = False
        loop.close()

    thread = threading.Thread(target=run_peer)
    thread.start()
    try:
        configure("--link", "--beats-per-measure", "3")
        plugin.sheetsync_session_start(session=SESSION)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not (peer.get("link") and peer["link"].num_peers
                                                   and abs(peer["link"].tempo - 105.0) < 0.01):
            plugin.sheetsync_position(position=at(2.0, 35.0))  # 35 measures a minute of 3/4: 105 BPM
            time.sleep(0.05)
        assert peer["link"].num_peers >= 1
        assert peer["link"].tempo == pytest.approx(105.0, abs=0.01)
    finally:
        plugin.sheetsync_session_end(session=SESSION, reason="end")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    assert sync_threads() == []


# ---- options ----

@pytest.mark.parametrize("argv, expected", [
    (["--reaper", "localhost"], "expected HOST:PORT"),
    (["--reaper", "127.0.0.1:8000", "--reaper-tempo", "0"], "--reaper-tempo must be positive"),
    (["--midi-clock", "x", "--beats-per-measure", "-3"], "--beats-per-measure must be positive"),
])
def test_bad_options_are_one_line_errors(argv, expected):
    with pytest.raises(SheetsyncError, match=expected):
        configure(*argv)


def test_the_plugin_is_installed_under_the_sheetsync_entry_point():
    from sheetsync.plugins import plugin_manager

    assert plugin_manager().get_plugin("dawsync") is plugin
