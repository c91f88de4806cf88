"""Opening MIDI ports by name for every MIDI adapter: `PORT` (a name or part of one) or `virtual:NAME`.

mido's rtmidi backend talks to ALSA on Linux, CoreMIDI on macOS and WinMM on
Windows. Where ALSA cannot be opened (containers without /dev/snd) it falls
back to JACK, so a running JACK server (even a dummy one) carries the ports.
Set SHEETSYNC_MIDI_API (e.g. UNIX_JACK, LINUX_ALSA, MACOSX_CORE) to choose.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import threading

import mido

from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)
VIRTUAL = "virtual:"
API_VARIABLE = "SHEETSYNC_MIDI_API"
# A JACK port hands its messages over in the server's next cycle and drops what is still waiting when it
# closes: give the last messages (the all-notes-off) time to leave, even on a machine under load.
CLOSE_DELAY = 0.2


def backend() -> mido.Backend:
    """The rtmidi backend on the API that works here (see the module's docstring)."""
    chosen = os.environ.get(API_VARIABLE)
    if chosen:
        return mido.Backend("mido.backends.rtmidi", api=chosen, load=True)
    default = mido.Backend("mido.backends.rtmidi", load=True)
    try:
        default.get_output_names()
        return default
    except Exception:  # rtmidi raises its own SystemError subclasses when ALSA is missing
        return mido.Backend("mido.backends.rtmidi", api="UNIX_JACK", load=True)


def open_output(spec: str, client: str = "sheetsync"):
    """An output port: `virtual:NAME` creates one others connect to; otherwise the first port whose
    name contains `spec` (case-insensitive). A clear error lists the ports there are."""
    midi = backend()
    if spec.startswith(VIRTUAL):
        name = spec[len(VIRTUAL):] or client
        try:
            return midi.open_output(name, virtual=True, client_name=client)
        except Exception as error:
            raise SheetsyncError(f"cannot create the virtual MIDI port '{name}': {error}") from error
    names = midi.get_output_names()
    matches = [n for n in names if spec.lower() in n.lower()]
    if not matches:
        available = ", ".join(names) or "none"
        raise SheetsyncError(f"no MIDI output port matches '{spec}' (ports: {available}); "
                             f"or use virtual:NAME to create one")
    if midi.api == "UNIX_JACK":
        return _jack_connected(midi.open_output("out", virtual=True, client_name=client), f"{client}:out", matches[0])
    return midi.open_output(matches[0], client_name=client)


def open_input(spec: str, client: str = "sheetsync"):
    """An input port, chosen like `open_output` (used by tests and by adapters that listen)."""
    midi = backend()
    if spec.startswith(VIRTUAL):
        return midi.open_input(spec[len(VIRTUAL):] or client, virtual=True, client_name=client)
    names = midi.get_input_names()
    matches = [n for n in names if spec.lower() in n.lower()]
    if not matches:
        raise SheetsyncError(f"no MIDI input port matches '{spec}' (ports: {', '.join(names) or 'none'})")
    if midi.api == "UNIX_JACK":
        return _jack_connected(midi.open_input("in", virtual=True, client_name=client), matches[0], f"{client}:in")
    return midi.open_input(matches[0], client_name=client)


def _jack_connected(port, source: str, destination: str):
    """rtmidi's JACK API opens a named port without connecting it: make our own port and connect it."""
    if shutil.which("jack_connect") is None:
        port.close()
        raise SheetsyncError("connecting JACK MIDI ports needs jack_connect (Debian package jackd2)")
    done = subprocess.run(["jack_connect", source, destination], capture_output=True, text=True)
    if done.returncode != 0:
        port.close()
        raise SheetsyncError(f"cannot connect JACK MIDI ports {source} -> {destination}: {done.stderr.strip()}")
    return port


class SharedOutput:
    """One output port shared by several adapters (e.g. cues and an accompaniment on the same synth):
    opened on first use, closed when the last user releases it. Safe to call from any thread; mido's
    ports serialise `send` themselves."""

    _open: dict[str, list] = {}
    _lock = threading.Lock()

    @classmethod
    def acquire(cls, spec: str):
        """The port for `spec`, opening it if no one holds it yet (SheetsyncError if it cannot be opened)."""
        with cls._lock:
            entry = cls._open.get(spec)
            if entry is None:
                entry = cls._open[spec] = [open_output(spec), 0]
            entry[1] += 1
            return entry[0]

    @classmethod
    def release(cls, spec: str) -> None:
        """Give the port back; the last user's release sends all-notes-off on every channel and closes it."""
        with cls._lock:
            entry = cls._open.get(spec)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del cls._open[spec]
        port = entry[0]
        try:
            port.reset()  # all notes off and reset controllers on all 16 channels
            time.sleep(CLOSE_DELAY)
        except Exception:  # a port whose device vanished still has to be closed
            pass
        finally:
            port.close()


class RetryingOutput:
    """A shared output that never stops the performance: while it cannot be opened or sending fails,
    messages are dropped, the problem is logged once, and the port is tried again every `retry` seconds.

    Use it from one thread (the adapter's sender); `release` at the end.
    """

    def __init__(self, spec: str, label: str, retry: float = 2.0):
        self.spec, self.label, self.retry = spec, label, retry
        self.port = None
        self._retry_at = 0.0
        self._failing = False

    def open(self):
        """The port, opening it when it is time to try again; None while it is unavailable."""
        if self.port is None and time.monotonic() >= self._retry_at:
            try:
                self.port = SharedOutput.acquire(self.spec)
            except SheetsyncError as error:
                self._failed(str(error))
        return self.port

    def send(self, message) -> bool:
        """Send one message; False when it was dropped."""
        port = self.open()
        if port is None:
            return False
        try:
            port.send(message)
        except Exception as error:  # rtmidi raises its own error types when a device goes away
            self._failed(f"sending failed: {type(error).__name__}: {error}")
            self.release()
            return False
        if self._failing:
            log.warning("%s %s works again", self.label, self.spec)
            self._failing = False
        return True

    def release(self) -> None:
        """Give the port back (the last user's release silences and closes it)."""
        if self.port is not None:
            self.port = None
            SharedOutput.release(self.spec)

    def _failed(self, reason: str) -> None:
        self._retry_at = time.monotonic() + self.retry
        if not self._failing:
            log.warning("%s %s: %s; following goes on, retrying every %g s", self.label, self.spec, reason,
                        self.retry)
            self._failing = True
