"""A dummy JACK server for tests: real MIDI ports and a sound device without a sound card."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest

from tests._services import require


@pytest.fixture(scope="session")
def jack_server():
    """A dummy JACK server (no sound card needed) for the session; MIDI ports open through it.

    Skips when jackd is not installed (fails under SHEETSYNC_REQUIRE_SERVICES).
    """
    require(shutil.which("jackd") is not None, "jackd is not installed (Debian package jackd2)")
    name = f"sheetsync-test-{uuid.uuid4().hex[:8]}"
    environment = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_AUDIO_RESERVATION": "1"}
    # A long client timeout: on a loaded machine the default (500 ms) refuses new clients ("server not running").
    server = subprocess.Popen(["jackd", "--no-realtime", "--timeout", "5000", "-n", name,
                               "-d", "dummy", "-r", "22050", "-p", "256"],
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    previous = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "SHEETSYNC_MIDI_API")}
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["SHEETSYNC_MIDI_API"] = "UNIX_JACK"
    try:
        _wait_until_ready(server, name, environment)
        yield name
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()
        server.wait(timeout=10)


def _wait_until_ready(server: subprocess.Popen, name: str, environment: dict) -> None:
    # jack_wait runs in its own process: probing with an rtmidi port in this one could crash it (a segfault
    # closing a port the starting server had just accepted).
    waiter = shutil.which("jack_wait")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jackd exited: {server.stderr.read().decode(errors='replace')[-500:]}")
        if waiter is None:
            time.sleep(1.0)  # no jack_wait (not from jackd2): give the server a moment
            return
        check = subprocess.run([waiter, "-s", name, "-c"], env=environment, capture_output=True, text=True)
        if check.stdout.strip() == "running":
            return
        time.sleep(0.2)
    raise RuntimeError("jackd did not start within 10 s")
