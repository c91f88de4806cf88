"""The viewer and page turner: its HTTP server over real sockets, its event stream, its keys reaching the
engine's Control, clean shutdown, and the page in a real headless Chromium while a performance is followed."""

from __future__ import annotations

import argparse
import http.client
import io
import json
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from sheetsync.engine import Config, Control
from sheetsync.errors import SheetsyncError
from sheetsync.events import PageInfo, Position, Session
from sheetsync_viewer.plugin import ViewerPlugin
from sheetsync_viewer.server import parse_address
from sheetsync_viewer.turner import PageTurner, View
from tests._services import require
from tests.engine_run import build_engine

SYSTEMS = ((10, 20, 190, 90), (10, 100, 190, 170), (10, 180, 190, 250))


def page_image(number: int) -> np.ndarray:
    image = np.full((260, 200), 255, np.uint8)
    image[30 + 10 * number: 34 + 10 * number, 10:190] = 0  # a different line on each page
    return image


def make_session(pages: int = 2) -> Session:
    infos = tuple(PageInfo(number=n, width=200, height=260, systems=SYSTEMS, first_measure=1 + 6 * (n - 1),
                           image=page_image(n)) for n in range(1, pages + 1))
    return Session(title="test piece", score="test.pdf", pages=infos, fps=20.0, source="synthetic")


def position(frame: int, page: int = 1, system: int = 1, x: float = 0.5, confidence: float = 0.8) -> Position:
    return Position(time=frame / 20, frame=frame, page=page, x=x, y=0.2, system=system, measure=1 + frame // 10,
                    progress=frame / 1000, confidence=confidence)


@pytest.fixture
def viewer():
    plugin = ViewerPlugin(("127.0.0.1", 0), Control(), announce=False)
    session = make_session()
    plugin.sheetsync_session_start(session)
    yield plugin
    plugin.sheetsync_session_end(session, "end")


def get(plugin: ViewerPlugin, path: str, headers: dict | None = None) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(*plugin.server.server_address[:2], timeout=5)
    connection.request("GET", path, headers=headers or {})
    reply = connection.getresponse()
    body = reply.read()
    connection.close()
    return reply.status, reply.getheader("Content-Type"), body


def post(plugin: ViewerPlugin, body, content_type: str = "application/json", headers: dict | None = None):
    connection = http.client.HTTPConnection(*plugin.server.server_address[:2], timeout=5)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    connection.request("POST", "/action", body=data, headers={"Content-Type": content_type, **(headers or {})})
    reply = connection.getresponse()
    answer = json.loads(reply.read() or b"null") if "json" in (reply.getheader("Content-Type") or "") else None
    connection.close()
    return reply.status, answer


class EventStream:
    """A real SSE client on a socket: reads `event:`/`data:` blocks."""

    def __init__(self, plugin: ViewerPlugin):
        self.connection = http.client.HTTPConnection(*plugin.server.server_address[:2], timeout=5)
        self.connection.request("GET", "/events")
        self.reply = self.connection.getresponse()
        assert self.reply.status == 200 and self.reply.getheader("Content-Type") == "text/event-stream"

    def next(self) -> tuple[str, dict] | None:
        """The next event, or None at the end of the stream."""
        name = None
        while line := self.reply.fp.readline():
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name:
                return name, json.loads(line[6:])
        return None

    def until(self, wanted) -> tuple[str, dict]:
        while (event := self.next()) is not None:
            if wanted(*event):
                return event
        raise AssertionError("the stream ended before the event came")

    def close(self):
        self.connection.close()


# --- addresses and options ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, address", [("8765", ("127.0.0.1", 8765)), ("0.0.0.0:9000", ("0.0.0.0", 9000)),
                                           ("localhost:80", ("localhost", 80)), ("[::1]:8765", ("::1", 8765))])
def test_addresses_are_loopback_unless_a_host_is_given(text, address):
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["score.pdf", "host:", ":8765", "70000", "host:port"])
def test_bad_addresses_are_clear_errors(text):
    with pytest.raises(SheetsyncError, match=f"--viewer: '{text}' is not"):
        parse_address(text)


def configure(*argv):
    import sheetsync_viewer

    parser = argparse.ArgumentParser()
    sheetsync_viewer.sheetsync_addoption(parser=parser)
    config = Config(parser.parse_args(list(argv)), Control())
    sheetsync_viewer.sheetsync_configure(config=config)
    return sheetsync_viewer._viewer


def test_viewer_flag_alone_listens_on_loopback_8765_and_releases_it():
    import sheetsync_viewer

    assert configure() is None  # no --viewer: nothing listens
    viewer = configure("--viewer")
    try:
        assert viewer.server.server_address == ("127.0.0.1", 8765)
        assert (viewer.lookahead, viewer.layout) == (1, "pair")
        sheetsync_viewer.sheetsync_session_start(session=make_session())
        assert get(viewer, "/")[0] == 200
    finally:
        sheetsync_viewer.sheetsync_session_end(session=make_session(), reason="end")
    assert sheetsync_viewer._viewer is None
    with socket.create_server(("127.0.0.1", 8765)):
        pass  # the port is free again


def test_busy_port_and_bad_lookahead_are_clear_errors():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(SheetsyncError, match=f"viewer: cannot listen on 127.0.0.1:{port}"):
            configure("--viewer", str(port))
    with pytest.raises(SheetsyncError, match="--viewer-lookahead must be 0 or more"):
        configure("--viewer", "0", "--viewer-lookahead", "-1")


def test_follow_with_viewer_on_the_command_line(two_pages, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    import soundfile
    import sheetsync_viewer
    from sheetsync.cli import main

    before = set(threading.enumerate())
    score, opening = two_pages
    samples, rate = soundfile.read(opening)
    audio = tmp_path / "short.flac"
    soundfile.write(audio, samples[rate: rate + rate // 2], rate)  # half a second: the model is slow on a busy CPU
    assert main(["follow", str(score), "--audio", str(audio), "--checkpoint", str(tiny_checkpoint), "--quiet",
                 "--viewer", "0", "--viewer-layout", "single", "--viewer-lookahead", "2"]) == 0
    assert "sheetsync: viewer at http://127.0.0.1:" in capsys.readouterr().err
    assert sheetsync_viewer._viewer is None and set(threading.enumerate()) == before


# --- page turning ---------------------------------------------------------------------------------------------


def follow_frames(turner: PageTurner, page: int, system: int, frames: int = 3) -> list[View | None]:
    return [turner.follow(page, system) for _ in range(frames)]


def test_pair_layout_shows_the_next_page_beside_on_the_last_system():
    turner = PageTurner([3, 3, 2], lookahead=1, layout="pair")
    assert follow_frames(turner, 1, 2) == [None] * 3
    assert follow_frames(turner, 1, 3) == [None, None, View((1, 2))]  # settles over 3 frames
    assert follow_frames(turner, 2, 1)[-1] == View((2,))
    assert follow_frames(turner, 3, 1)[-1] == View((3,))
    assert follow_frames(turner, 3, 2) == [None] * 3  # the last page has no next page


@pytest.mark.parametrize("layout, lookahead, system, expected", [
    ("single", 1, 3, (2,)), ("single", 1, 2, (1,)), ("pair", 2, 2, (1, 2)), ("pair", 0, 3, (1,))])
def test_lookahead_and_layout(layout, lookahead, system, expected):
    assert PageTurner([3, 3], lookahead, layout).auto_view(1, system).pages == expected


def test_hesitation_at_a_boundary_does_not_flicker():
    turner = PageTurner([3, 3], lookahead=1, layout="pair")
    views = [turner.follow(1, system) for system in (3, 2, 3, 2, 3, 2)]
    assert views == [None] * 6 and turner.view == View((1,))


def test_manual_turn_holds_until_the_follower_gets_there():
    turner = PageTurner([3, 3, 3], lookahead=1)
    assert turner.turn(1) == View((2,), manual=True)
    assert follow_frames(turner, 1, 1) == [None] * 3  # the follower is behind: the hand-turned page stays
    assert turner.follow(2, 1) == View((2,))  # it got there: automatic again
    assert turner.turn(5) == View((3,), manual=True) and turner.turn(-9) == View((1,), manual=True)
    assert turner.release() == View((1,))


# --- the server over real sockets -----------------------------------------------------------------------------


def test_page_files_session_and_images_are_served(viewer):
    from PIL import Image

    status, kind, body = get(viewer, "/")
    assert status == 200 and kind.startswith("text/html") and b'src="/static/viewer.js"' in body
    for name, kind_prefix in (("viewer.js", "text/javascript"), ("viewer.css", "text/css")):
        status, kind, body = get(viewer, f"/static/{name}")
        assert status == 200 and kind.startswith(kind_prefix) and body
    assert get(viewer, "/static/../plugin.py")[0] == 404
    status, kind, body = get(viewer, "/session")
    session = json.loads(body)
    assert session["title"] == "test piece" and [p["number"] for p in session["pages"]] == [1, 2]
    assert session["pages"][1]["systems"][2] == [10, 180, 190, 250]
    for page in session["pages"]:
        status, kind, body = get(viewer, page["image"])
        assert status == 200 and kind == "image/png"
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(body))), page_image(page["number"]))
    assert get(viewer, "/pages/3.png")[0] == 404


def test_event_stream_delivers_the_session_the_view_and_positions(viewer):
    stream = EventStream(viewer)
    try:
        assert stream.next()[0] == "session"
        assert stream.next() == ("view", {"pages": [1], "manual": False})
        viewer.sheetsync_position(position=position(7, x=0.25))
        name, data = stream.until(lambda name, data: name == "position")
        assert (data["frame"], data["page"], data["x"], data["confidence"]) == (7, 1, 0.25, 0.8)
        for frame in range(8, 11):  # the last system of page 1: page 2 appears beside it
            viewer.sheetsync_position(position=position(frame, page=1, system=3))
        assert stream.until(lambda name, data: name == "view")[1] == {"pages": [1, 2], "manual": False}
        for frame in range(11, 14):
            viewer.sheetsync_position(position=position(frame, page=2, system=1))
        assert stream.until(lambda name, data: name == "view")[1]["pages"] == [2]
        name, data = stream.until(lambda name, data: name == "position" and data["frame"] == 13)
        assert data["page"] == 2
    finally:
        stream.close()


def test_keys_reach_the_engine_control(viewer):
    requests = viewer.control.requests
    assert post(viewer, {"action": "next"}) == (200, {"view": {"pages": [2], "manual": True}})
    assert post(viewer, {"action": "resync"})[0] == 200
    assert requests.get_nowait() == ("page", 2)  # the follower is told the page shown
    assert post(viewer, {"action": "previous"})[1]["view"] == {"pages": [1], "manual": True}
    assert post(viewer, {"action": "page", "page": 2})[1]["view"]["pages"] == [2]
    assert post(viewer, {"action": "restart"})[1]["view"] == {"pages": [1], "manual": False}
    assert requests.get_nowait() == ("reset", None)
    assert requests.empty()
    assert post(viewer, {"action": "jump"}) == (400, {"error": "unknown action 'jump'"})
    assert post(viewer, {"action": "page", "page": 9}) == (400, {"error": "no page 9 (the score has 2)"})
    assert post(viewer, b"{not json")[0] == 400
    assert post(viewer, {"action": "next"}, content_type="text/plain")[0] == 415  # a form on another site
    assert post(viewer, {"action": "next"}, headers={"Origin": "http://evil.example"})[0] == 403
    assert get(viewer, "/session", headers={"Host": "evil.example:8765"})[0] == 403  # DNS rebinding
    assert requests.empty()


def test_session_end_closes_the_streams_and_releases_the_port():
    before = set(threading.enumerate())
    plugin = ViewerPlugin(("127.0.0.1", 0), Control(), announce=False)
    address = plugin.server.server_address
    session = make_session()
    plugin.sheetsync_session_start(session)
    streams = [EventStream(plugin) for _ in range(2)]
    assert streams[0].next()[0] == "session"
    plugin.sheetsync_session_end(session, "stopped")
    for stream in streams:
        assert stream.until(lambda name, data: name == "end")[1] == {"reason": "stopped"}
        assert stream.next() is None  # the server closed the stream
        stream.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=2)
    with socket.create_server(address):
        pass
    assert set(threading.enumerate()) == before


def test_a_closed_tab_never_disturbs_following(viewer, caplog):
    gone, staying = EventStream(viewer), EventStream(viewer)
    gone.next()
    gone.reply.fp.raw._sock.shutdown(socket.SHUT_RDWR)  # the tab closes without a word
    gone.close()
    for frame in range(200):
        viewer.sheetsync_position(position=position(frame, x=frame / 200))
        if frame % 20 == 0:
            time.sleep(0.01)
    name, data = staying.until(lambda name, data: name == "position" and data["frame"] == 199)
    assert data["x"] == 199 / 200
    staying.close()
    assert not [record for record in caplog.records if record.levelname in ("ERROR", "WARNING")]


# --- a real headless Chromium on a followed performance -------------------------------------------------------


def chromium():
    require(bool(shutil.which("chromium") and shutil.which("chromedriver")),
            "chromium and chromedriver are not installed (Debian packages chromium, chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, "selenium is not installed (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,800"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)


def wait_for(check, timeout: float = 10.0, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


def follow_in_real_time(score_path, audio_path, checkpoint_path, plugins, control, seconds):
    """The real engine on a recording paced at real speed, as `sheetsync follow --realtime` runs it."""
    engine, source = build_engine(score_path, audio_path, checkpoint_path, plugins, seconds, control, realtime=True)
    return engine.run(source)


class RecordingControl(Control):
    """The engine's real Control, remembering what the page asked of it."""

    def __init__(self):
        super().__init__()
        self.asked = []

    def go_to_page(self, page):
        self.asked.append(("page", page))
        super().go_to_page(page)


def test_chromium_follows_the_marker_turns_the_page_and_sends_keys(two_pages, tiny_checkpoint):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser = chromium()
    control = RecordingControl()
    viewer = ViewerPlugin(("127.0.0.1", 0), control, lookahead=0, layout="single", announce=False)
    shown_url = viewer.url
    started = threading.Event()

    class Started:  # the browser opens once the session has started
        from sheetsync import hookimpl

        @hookimpl
        def sheetsync_session_start(self, session):
            started.set()

    outcome = {}
    engine_thread = threading.Thread(target=lambda: outcome.update(
        reason=follow_in_real_time(*two_pages, tiny_checkpoint, [viewer, Started()], control, seconds=8.0)))
    engine_thread.start()
    try:
        assert started.wait(30)
        browser.get(shown_url)
        marker = wait_for(lambda: browser.find_elements(By.ID, "marker"), message="the marker")[0]
        lefts = set()
        wait_for(lambda: lefts.add(marker.value_of_css_property("left")) or len(lefts) >= 3, timeout=5,
                 message="the marker to move")

        def shown_pages():
            # One script, so a page turned between finding the elements and reading them cannot go stale.
            return browser.execute_script(
                "return Array.from(document.querySelectorAll('#pages .page'), p => p.getAttribute('data-page'))")

        first = wait_for(shown_pages, message="a page")
        other = 2 if first == ["1"] else 1
        control.go_to_page(other)  # the follower moves: the page turns by itself
        wait_for(lambda: shown_pages() == [str(other)], message=f"page {other} on screen")
        wait_for(lambda: browser.find_element(By.ID, "page-number").text == str(other), message="the page number")
        image = browser.find_element(By.CSS_SELECTOR, "#pages .page img").get_attribute("src")
        assert f"/pages/{other}.png" in image

        key = "\ue00f" if other == 1 else "\ue00e"  # PageDown to page 2, PageUp back to page 1
        browser.find_element(By.TAG_NAME, "body").send_keys(key)
        wanted = 3 - other
        wait_for(lambda: shown_pages() == [str(wanted)], message="the hand-turned page")
        browser.find_element(By.TAG_NAME, "body").send_keys("r")
        wait_for(lambda: ("page", wanted) in control.asked, message="the re-sync key at the Control")
    finally:
        control.stop()
        engine_thread.join(60)
        browser.quit()
    assert outcome["reason"] == "stopped"
    assert not engine_thread.is_alive()
