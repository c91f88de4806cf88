"""Audio sources for the follower: a recording (as fast as possible, or paced in real time) or a live input."""

from __future__ import annotations

import logging
import queue
import time
from typing import Iterator

import numpy as np

from sheetsync.audio.features import SAMPLE_RATE
from sheetsync.errors import SheetsyncError

log = logging.getLogger(__name__)
BLOCK = 1102  # about one frame of audio per block


class FileSource:
    """Blocks of a recording; with `realtime`, paced at the speed it was played; with `play`, also heard
    on an output device (the default one, or `output_device`) while it is followed."""

    def __init__(self, path, realtime: bool = False, block: int = BLOCK, play: bool = False, output_device=None):
        from sheetsync.audio.io import load_audio

        self.path, self.realtime, self.block = str(path), realtime or play, block
        self.audio = load_audio(path)
        if not np.any(np.abs(self.audio) > 1e-4):
            raise SheetsyncError(f"audio file '{path}' is silent")
        self.played = 0
        self.output = self._open_output(output_device) if play else None

    def _open_output(self, device):
        sounddevice = _sounddevice()
        try:
            return sounddevice.OutputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", device=device,
                                            callback=self._play)
        except Exception as error:  # PortAudio reports missing devices in several ways
            raise SheetsyncError(f"cannot open audio output {device if device is not None else '(default)'} "
                                 f"to play '{self.path}': {error}") from error

    def _play(self, out, frames, timing, status) -> None:
        chunk = self.audio[self.played:self.played + frames]
        out[:len(chunk), 0] = chunk
        out[len(chunk):, 0] = 0.0
        self.played += len(chunk)

    def blocks(self) -> Iterator[np.ndarray]:
        if self.output is not None:
            self.output.start()
        started = time.monotonic()
        for start in range(0, len(self.audio), self.block):
            if self.realtime:
                delay = started + start / SAMPLE_RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield self.audio[start:start + self.block]

    def close(self) -> None:
        if self.output is not None:
            deadline = time.monotonic() + 1.0  # let the device play what it was given (its latency)
            while self.played < len(self.audio) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.output.stop()
            self.output.close()


class LiveSource:
    """A sound device's input, mono at 22,050 Hz, from a callback thread through a bounded queue.

    When processing falls behind, the oldest audio is dropped (and said so) rather than drifting late.
    """

    def __init__(self, device=None, max_seconds: float = 1.0, block: int = BLOCK):
        sounddevice = _sounddevice()
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, int(max_seconds * SAMPLE_RATE / block)))
        self.dropped = 0
        try:
            self.stream = sounddevice.InputStream(samplerate=SAMPLE_RATE, channels=1, blocksize=block,
                                                  dtype="float32", device=device, callback=self._callback)
            self.stream.start()
        except Exception as error:  # PortAudio reports missing devices in several ways
            raise SheetsyncError(f"cannot open audio input {device if device is not None else '(default)'}: "
                                 f"{error}") from error

    def _callback(self, data, frames, timing, status) -> None:
        try:
            self.queue.put_nowait(data[:, 0].copy())
        except queue.Full:
            self.queue.get_nowait()
            self.queue.put_nowait(data[:, 0].copy())
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.warning("processing fell behind: dropped %d blocks of old audio", self.dropped)

    def blocks(self) -> Iterator[np.ndarray]:
        while True:
            yield self.queue.get()

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


def list_devices() -> str:
    return str(_sounddevice().query_devices())


def _sounddevice():
    """The sounddevice module; a clear error where the PortAudio library it loads is not installed."""
    try:
        import sounddevice
    except OSError as error:
        raise SheetsyncError(f"sound devices need the PortAudio library (Debian: apt install libportaudio2): "
                             f"{error}") from error
    return sounddevice
