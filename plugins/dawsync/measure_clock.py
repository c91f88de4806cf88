"""Measure the MIDI clock on this machine: rate error and jitter, at the sender and at a receiving port.

    python -m sheetsync_dawsync.measure_clock [--tempo 30] [--beats-per-measure 4] [--seconds 12]

A synthetic performer plays at `--tempo` measures per minute (then 20 % faster for the second half) and
feeds the clock 20 positions a second, as the follower does; a virtual input port on the same MIDI system
(ALSA, CoreMIDI, or JACK with SHEETSYNC_MIDI_API=UNIX_JACK) receives the clock. Printed: the tick rate
against the performer's tempo, and the jitter of the tick times around a straight line (the timing a DAW
sees), in each steady stretch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import rtmidi

from sheetsync.events import Position
from sheetsync_dawsync import ClockSync
from sheetsync_dawsync.clock import PPQ
from sheetsync_dawsync.transport import Steering
from sheetsync_midi.ports import backend

PORT = "sheetsync-clock-probe"


def fit(times: np.ndarray) -> tuple[float, np.ndarray]:
    """Ticks per second of a straight line through the tick times, and each tick's distance from it."""
    index = np.arange(len(times))
    slope, intercept = np.polyfit(index, times, 1)
    return 1.0 / slope, times - (slope * index + intercept)


def report(name: str, times: np.ndarray, expected: float) -> None:
    rate, residual = fit(times)
    print(f"  {name:9s} {len(times):5d} ticks  rate {rate:8.3f}/s (expected {expected:.3f}, "
          f"error {100 * (rate / expected - 1):+.3f} %)  jitter rms {1000 * residual.std():.3f} ms, "
          f"max {1000 * np.abs(residual).max():.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tempo", type=float, default=30.0, help="measures per minute (default 30)")
    parser.add_argument("--beats-per-measure", type=float, default=4.0)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()

    received: list[float] = []
    clock_in = rtmidi.MidiIn(rtapi=_api_id(backend().api), name="probe")
    clock_in.ignore_types(timing=False)
    stamp = [0.0]

    def on_message(event, data=None):
        message, delta = event
        stamp[0] += delta
        if message == [0xF8]:
            received.append(stamp[0])

    clock_in.set_callback(on_message)
    clock_in.open_virtual_port(PORT)
    steering = Steering(beats_per_measure=args.beats_per_measure)
    sync = ClockSync(PORT, steering)
    time.sleep(0.5)  # the port opens
    half = args.seconds / 2
    tempos = (args.tempo, args.tempo * 1.2)
    started, frame, measure = time.monotonic(), 0, 1.0
    while frame / 20 < args.seconds:
        tempo = tempos[0] if frame / 20 < half else tempos[1]
        sync.position(Position(time=frame / 20, frame=frame, page=1, x=0, y=0, system=1, measure=int(measure),
                               progress=0, confidence=1, tempo=tempo, measure_position=measure))
        measure += tempo / 60 / 20
        frame += 1
        time.sleep(max(0.0, started + frame / 20 - time.monotonic()))
    daw, performer = sync.clock.beat_now(), steering.beat(Position(0, 0, 1, 0, 0, 1, 0, 0, 1, None, measure))
    sync.close()
    time.sleep(0.3)
    clock_in.close_port()

    sent = np.array(sync.clock.tick_times)
    received_times = np.array(received)
    print(f"MIDI clock on {backend().api}, {args.beats_per_measure:g} beats a measure, "
          f"{sent.size} ticks sent, {received_times.size} received")
    for (low, high), tempo in zip(((0.1, 0.5), (0.75, 1.0)), tempos):
        expected = tempo * args.beats_per_measure * PPQ / 60
        print(f"{tempo:g} measures/min = {tempo * args.beats_per_measure:g} BPM, from {low * args.seconds:g} s "
              f"to {high * args.seconds:g} s:")
        for name, times in (("sent", sent), ("received", received_times)):
            since = times - times[0]
            span = times[(since >= low * args.seconds) & (since <= high * args.seconds)]
            report(name, span, expected)
    print(f"DAW beat at the end {daw:.3f}, performer {performer:.3f} (difference {daw - performer:+.3f} beats)")


def _api_id(name: str) -> int:
    return {"UNIX_JACK": rtmidi.API_UNIX_JACK, "LINUX_ALSA": rtmidi.API_LINUX_ALSA,
            "MACOSX_CORE": rtmidi.API_MACOSX_CORE, "WINDOWS_MM": rtmidi.API_WINDOWS_MM}.get(name,
                                                                                         rtmidi.API_UNSPECIFIED)


if __name__ == "__main__":
    main()
