"""The OSC adapter against real UDP sockets: exact bytes, rate limits, control in, a real engine run, clean end."""

from __future__ import annotations

import argparse
import logging
import socket
import struct
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

import sheetsync_osc
from sheetsync.engine import Config, Control, Engine, session_for
from sheetsync.errors import SheetsyncError
from sheetsync.events import Position, Session
from sheetsync.hookspecs import hookimpl
from sheetsync_osc.addresses import parse_endpoint
from sheetsync_osc.messages import ADDRESSES
from sheetsync_osc.sender import Sender

SESSION = Session(title="t", score="s.pdf", pages=(), fps=20.0, source="test")


# --- OSC 1.0 by hand: strings NUL-terminated and padded to 4 bytes, then ",tags", then big-endian arguments ---

def osc_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def osc(address: str, *args: tuple[str, object]) -> bytes:
    tags = "," + "".join(kind for kind, _ in args)
    payload = b"".join(struct.pack(">i", value) if kind == "i" else struct.pack(">f", value) if kind == "f"
                       else osc_string(value) for kind, value in args)
    return osc_string(address) + osc_string(tags) + payload


class Receiver:
    """A real UDP socket on loopback, as Max's [udpreceive] would be."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]

    def datagrams(self, wait: float = 0.3) -> list[bytes]:
        """Everything that arrived (the sender has flushed by the time a session has ended)."""
        received = []
        self.socket.settimeout(wait)
        try:
            while True:
                received.append(self.socket.recv(65536))
        except socket.timeout:
            return received

    def messages(self, wait: float = 0.3) -> list[tuple]:
        return [(m.address, *m.params) for m in map(OscMessage, self.datagrams(wait))]

    def close(self):
        self.socket.close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def no_adapter_left():
    yield
    if sheetsync_osc._adapter is not None:
        sheetsync_osc.sheetsync_session_end(session=SESSION, reason="error")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(*argv: str, control: Control | None = None) -> Control:
    parser = argparse.ArgumentParser()
    sheetsync_osc.sheetsync_addoption(parser)
    control = control or Control()
    sheetsync_osc.sheetsync_configure(config=Config(parser.parse_args(list(argv)), control))
    return control


def start(*argv: str, control: Control | None = None) -> Control:
    control = configure(*argv, control=control)
    sheetsync_osc.sheetsync_session_start(session=SESSION)
    return control


def end(reason: str = "end") -> None:
    sheetsync_osc.sheetsync_session_end(session=SESSION, reason=reason)


def position(frame: int = 0, **fields) -> Position:
    values = dict(time=frame / 20, frame=frame, page=1, x=0.25, y=0.5, system=1, measure=3, progress=0.125,
                  confidence=0.75, tempo=None)
    values.update(fields)
    return Position(**values)


def frames(count: int, **fields) -> None:
    for frame in range(count):
        sheetsync_osc.sheetsync_position(position=position(frame, **fields))


# --- what is sent ---

def test_every_message_has_the_exact_osc_bytes(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}")
    first = position(time=np.float64(0.05), frame=np.int64(1), page=np.int64(2), x=np.float32(0.25), y=0.5,
                     system=np.int32(3), measure=np.int64(12), progress=np.float32(0.375), confidence=0.75,
                     tempo=np.float64(30.5))
    sheetsync_osc.sheetsync_position(position=first)
    sheetsync_osc.sheetsync_measure(position=first)
    sheetsync_osc.sheetsync_page_turn(page=2, position=first, early=False)
    sheetsync_osc.sheetsync_page_turn(page=3, position=first, early=True)
    unknown = position(measure=None, tempo=None)
    sheetsync_osc.sheetsync_measure(position=unknown)
    end("end")
    assert receiver.datagrams() == [
        osc("/sheetsync/state", ("s", "following")),
        osc("/sheetsync/tempo", ("f", 30.5)),
        osc("/sheetsync/position", ("i", 2), ("i", 3), ("f", 0.25), ("f", 0.5), ("i", 12), ("f", 0.75),
            ("f", 0.375), ("f", 0.0)),
        osc("/sheetsync/time", ("f", 0.05)),
        osc("/sheetsync/measure", ("i", 12)),
        osc("/sheetsync/page", ("i", 2), ("i", 0)),
        osc("/sheetsync/page", ("i", 3), ("i", 1)),  # the early turn hint
        osc("/sheetsync/measure", ("i", 0)),  # no measure known
        osc("/sheetsync/state", ("s", "end")),
    ]


def test_measure_position_rides_on_the_position_message(receiver):
    """The lead's `measure_position` field (12.4 = 40 % through measure 12), when Position has it."""
    start("--osc", f"127.0.0.1:{receiver.port}")

    class WithMeasurePosition:  # duck-typed: works before and after the field lands in sheetsync.events
        time, frame, page, x, y, system, measure, progress, confidence = 0.0, 0, 1, 0.5, 0.5, 1, 12, 0.5, 1.0
        tempo, measure_position = None, 12.4

    sheetsync_osc.sheetsync_position(position=WithMeasurePosition())
    end()
    sent = receiver.messages()
    assert sent[1][0] == "/sheetsync/position" and sent[1][-1] == pytest.approx(12.4)


def test_the_prefix_option_and_only_i_f_s_types(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-prefix", "/piano/")
    frames(1, tempo=20.0)
    sheetsync_osc.sheetsync_measure(position=position())
    sheetsync_osc.sheetsync_page_turn(page=1, position=position(), early=False)
    end("interrupted")
    datagrams = receiver.datagrams()
    addresses = [OscMessage(d).address for d in datagrams]
    assert addresses == ["/piano/state", "/piano/tempo", "/piano/position", "/piano/time", "/piano/measure",
                         "/piano/page", "/piano/state"]
    assert {suffix for suffix in ADDRESSES} == {a.rsplit("/", 1)[1] for a in addresses}
    for datagram in datagrams:
        tags = datagram[datagram.index(b","):].split(b"\0")[0].decode()
        assert set(tags[1:]) <= set("ifs")
    assert OscMessage(datagrams[-1]).params == ["stopped"]  # the session did not reach the end


def test_every_position_reaches_every_target(receiver):
    second = Receiver()
    try:
        start("--osc", f"127.0.0.1:{receiver.port}", "--osc", f"localhost:{second.port}")
        frames(40)
        end()
        for r in (receiver, second):
            sent = r.messages()
            assert [m[1] for m in sent if m[0] == "/sheetsync/position"] == [1] * 40
            assert [m[1] for m in sent if m[0] == "/sheetsync/time"] == pytest.approx([f / 20 for f in range(40)])
    finally:
        second.close()


# --- light receivers ---

def test_rate_limit_thins_per_frame_messages_but_never_changes(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-rate", "5")
    for frame in range(40):  # two seconds at 20 frames a second
        p = position(frame, measure=1 + frame // 10)
        sheetsync_osc.sheetsync_position(position=p)
        if frame % 10 == 0:
            sheetsync_osc.sheetsync_measure(position=p)
    end()
    sent = receiver.messages()
    times = [m[1] for m in sent if m[0] == "/sheetsync/time"]
    assert times == pytest.approx([f / 20 for f in range(0, 40, 4)])  # 5 a second: every 4th frame
    assert sum(m[0] == "/sheetsync/position" for m in sent) == 10
    assert [m[1] for m in sent if m[0] == "/sheetsync/measure"] == [1, 2, 3, 4]


def test_rate_limit_restarts_when_time_goes_back_after_a_reset(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-rate", "2")
    frames(12)
    frames(3)  # the follower was reset: time starts again at 0
    end()
    times = [m[1] for m in receiver.messages() if m[0] == "/sheetsync/time"]
    assert times == pytest.approx([0.0, 0.5, 0.0])


def test_changes_only_sends_no_per_frame_messages(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-changes-only")
    for frame in range(30):
        p = position(frame, measure=1 + frame // 10, tempo=30.0 if frame < 20 else 31.0)
        sheetsync_osc.sheetsync_position(position=p)
        if frame % 10 == 0:
            sheetsync_osc.sheetsync_measure(position=p)
    sheetsync_osc.sheetsync_page_turn(page=2, position=position(), early=True)
    end()
    assert receiver.messages() == [
        ("/sheetsync/state", "following"), ("/sheetsync/tempo", 30.0), ("/sheetsync/measure", 1),
        ("/sheetsync/measure", 2), ("/sheetsync/tempo", 31.0), ("/sheetsync/measure", 3),
        ("/sheetsync/page", 2, 1), ("/sheetsync/state", "end")]


def test_tempo_is_sent_when_it_changes_and_again_after_a_gap(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-changes-only")
    for tempo in (None, 24.0, 24.001, 24.0, 25.5, None, None, 25.5):
        sheetsync_osc.sheetsync_position(position=position(tempo=tempo))
    end()
    assert [m[1] for m in receiver.messages() if m[0] == "/sheetsync/tempo"] == [24.0, 25.5, 25.5]


def test_state_goes_lost_after_half_a_second_of_low_confidence_and_back(receiver):
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-changes-only")
    frames(3, confidence=0.9)
    frames(9, confidence=0.1)  # not yet half a second
    frames(1, confidence=0.9)
    frames(10, confidence=0.1)
    frames(1, confidence=0.9)
    end("end")
    assert [m[1] for m in receiver.messages()] == ["following", "lost", "following", "end"]


# --- control in ---

def send_to(port: int, address: str, *args) -> None:
    builder = OscMessageBuilder(address=address)
    for value in args:
        builder.add_arg(value)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(builder.build().dgram, ("127.0.0.1", port))


def requests(control: Control, count: int, timeout: float = 5.0) -> list:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        if control.requests.empty():
            time.sleep(0.005)
        else:
            got.append(control.requests.get())
    return got


def test_control_commands_reach_the_engine_control_channel(receiver, caplog):
    port = free_port()
    control = start("--osc", f"127.0.0.1:{receiver.port}", "--osc-listen", str(port))
    for command in (("/sheetsync/stop",), ("/sheetsync/start",), ("/sheetsync/reset",), ("/sheetsync/page", 3),
                    ("/sheetsync/page", 2.0), ("/sheetsync/page", 0), ("/sheetsync/page", 1.5),
                    ("/sheetsync/page", "two"), ("/other/stop",), ("/sheetsync/stop", 0), ("/sheetsync/stop", 1.0)):
        send_to(port, *command)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"not osc at all", ("127.0.0.1", port))
    send_to(port, "/sheetsync/reset")  # the listener is still serving after all that
    assert requests(control, 6) == [("pause", None), ("resume", None), ("reset", None), ("page", 3),
                                    ("page", 2), ("pause", None)]
    assert requests(control, 1) == [("reset", None)]
    assert requests(control, 1, timeout=0.2) == []
    assert sum("ignoring" in r.message for r in caplog.records) == 5


def test_stop_holds_the_state_at_stopped_until_start(receiver):
    port = free_port()
    control = start("--osc", f"127.0.0.1:{receiver.port}", "--osc-listen", f"127.0.0.1:{port}",
                    "--osc-changes-only")
    frames(2)
    send_to(port, "/sheetsync/stop")
    assert requests(control, 1) == [("pause", None)]
    frames(2)  # frames of the block in flight when the pause arrived
    send_to(port, "/sheetsync/start")
    assert requests(control, 1) == [("resume", None)]
    frames(2)
    end("stopped")
    assert [m[1] for m in receiver.messages()] == ["following", "stopped", "following", "stopped"]


def test_listening_is_off_unless_asked_and_loopback_by_default():
    threads = set(threading.enumerate())
    configure("--osc", "127.0.0.1:9")
    assert sheetsync_osc._adapter.listener is None
    end()
    configure("--osc-listen")  # control only, no sending
    listener = sheetsync_osc._adapter.listener
    assert listener.socket.getsockname() == ("127.0.0.1", 7401) and sheetsync_osc._adapter.sender is None
    end()
    assert set(threading.enumerate()) == threads


def test_session_end_releases_the_port_and_leaves_no_thread(receiver):
    port = free_port()
    before = set(threading.enumerate())
    start("--osc", f"127.0.0.1:{receiver.port}", "--osc-listen", str(port))
    assert {t.name for t in set(threading.enumerate()) - before} == {"sheetsync-osc-sender",
                                                                    "sheetsync-osc-listener"}
    frames(5)
    end("interrupted")
    assert set(threading.enumerate()) == before
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))  # the port is free again


def test_a_busy_control_port_is_a_clear_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(SheetsyncError, match=f"--osc-listen 127.0.0.1:{port}: cannot listen there"):
            configure("--osc-listen", str(port))


@pytest.mark.parametrize("argv, message", [
    (["--osc", "127.0.0.1:port"], "port 'port' is not a number"),
    (["--osc", "127.0.0.1:70000"], "port 70000 is not between 1 and 65535"),
    (["--osc", "no-such-host.invalid:7400"], "cannot resolve host 'no-such-host.invalid'"),
    (["--osc", "127.0.0.1", "--osc-prefix", "sheetsync"], "must start with '/'"),
    (["--osc", "127.0.0.1", "--osc-prefix", "/a b"], "may not contain"),
    (["--osc", "127.0.0.1", "--osc-rate", "0"], "--osc-rate 0: must be a positive"),
    (["--osc-listen", "localhost:x"], "--osc-listen 'localhost:x'"),
])
def test_bad_options_are_one_line_errors(argv, message):
    with pytest.raises(SheetsyncError, match=message):
        configure(*argv)
    assert sheetsync_osc._adapter is None


@pytest.mark.parametrize("spec, expected", [
    ("127.0.0.1", ("127.0.0.1", 7400)), ("127.0.0.1:9000", ("127.0.0.1", 9000)), ("9000", ("127.0.0.1", 9000)),
    (":9000", ("127.0.0.1", 9000)), ("localhost", ("127.0.0.1", 7400)), ("[::1]:9000", ("::1", 9000)),
])
def test_endpoint_forms(spec, expected):
    assert parse_endpoint(spec, "--osc", "127.0.0.1", 7400).sockaddr[:2] == expected


# --- receivers that are not there ---

def test_nobody_listening_never_stops_following(caplog):
    port = free_port()  # nothing bound there
    start("--osc", f"127.0.0.1:{port}")
    frames(50)
    sender = sheetsync_osc._adapter.sender
    end()
    assert sender.sent == 50 * 2 + 2  # UDP does not know; every message left, nothing raised
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_failing_target_is_logged_once_and_the_others_still_get_everything(receiver, caplog):
    # broadcast without SO_BROADCAST: every sendto fails with EACCES, a real send error
    start("--osc", "255.255.255.255:7400", "--osc", f"127.0.0.1:{receiver.port}")
    frames(30)
    end()
    assert sum(m[0] == "/sheetsync/position" for m in receiver.messages()) == 30
    warnings = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot send to 255.255.255.255:7400" in warnings[0]


def test_a_full_queue_drops_the_oldest_messages_without_blocking():
    sender = Sender([], maxsize=4)  # thread not started: nothing drains the queue
    for n in range(10):
        sender.send(("/x", "i", (n,)))
    assert sender.dropped == 6
    assert [sender.queue.get_nowait()[2][0] for _ in range(4)] == [6, 7, 8, 9]
    sender.close()


# --- the real engine ---

def test_real_engine_run_sends_positions_and_obeys_osc_control(receiver, two_pages, tiny_checkpoint):  # noqa: F811
    from sheetsync.audio.sources import FileSource
    from sheetsync.model import checkpoint
    from sheetsync.plugins import plugin_manager
    from sheetsync.score.load import load_score
    from sheetsync.tracking.tracker import Tracker

    port = free_port()

    class TurnByOsc:
        """A Max patch pressing "page 2" at frame 10; waits until the listener has passed it on."""

        @hookimpl
        def sheetsync_position(self, position):
            if position.frame == 10:
                send_to(port, "/sheetsync/page", 2)
                deadline = time.monotonic() + 5
                while control.requests.empty() and time.monotonic() < deadline:
                    time.sleep(0.001)

    model, _ = checkpoint.load(tiny_checkpoint)
    score = load_score([two_pages[0]])
    tracker = Tracker(model, score)
    manager = plugin_manager(entry_points=False)
    manager.register(sheetsync_osc)
    manager.register(TurnByOsc())
    before = set(threading.enumerate())
    control = configure("--osc", f"127.0.0.1:{receiver.port}", "--osc-listen", f"127.0.0.1:{port}")
    source = FileSource(two_pages[1])
    source.audio = source.audio[: 2 * 22050]
    assert Engine(manager, tracker, session_for(score, tracker, "test"), control).run(source) == "end"

    sent = receiver.messages()
    positions = [m for m in sent if m[0] == "/sheetsync/position"]
    assert len(positions) == 40 == sum(m[0] == "/sheetsync/time" for m in sent)
    assert all(m[1] >= 1 and 0 <= m[3] <= 1 and 0 <= m[4] <= 1 and 0 <= m[6] <= 1 for m in positions)
    assert sent[0][0] == "/sheetsync/state" and sent[-1] == ("/sheetsync/state", "end")
    turn = sent.index(("/sheetsync/page", 2, 0))  # the OSC command moved the follower to page 2 ...
    assert [m for m in sent[:turn] if m[0] == "/sheetsync/position"][-1][1] == 2  # ... and positions with it
    assert set(threading.enumerate()) == before
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))
