"""Measure the accompaniment's lag behind a synthetic soloist and print its distribution.

    python plugins/accompaniment/measure_lag.py [--seconds 14] [--report-tempo] [--runs 1]

Starts a dummy JACK server (Debian jackd2), plays a one-note-per-beat accompaniment through the plugin
while a soloist with a known tempo curve (100 -> 132 -> 84 BPM, 4/4) is fed as Positions at 20/s in real
time, records the note-ons at a JACK MIDI input and prints, over all onsets, the lag in ms (arrival minus
the moment the soloist reached that beat; negative = early): median, p90 of |lag|, max |lag|.
The positions are exact, so this measures the adapter (tempo estimate, scheduler, MIDI delivery), not
the follower's own latency.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

CURVE = [(0.0, 100.0), (5.0, 132.0), (9.0, 132.0), (14.0, 84.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=14.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print every onset's lag")
    parser.add_argument("--report-tempo", action="store_true",
                        help="give Position.tempo (the true tempo) too; default: the adapter estimates it")
    options = parser.parse_args()
    server = _start_jack()
    try:
        all_lags = []
        for _ in range(options.runs):
            lags = _one_run(options.seconds, options.report_tempo)
            if options.verbose:
                print(" ".join(f"{lag * 1000:+.0f}" for lag in lags[0]), f"(positions up to {lags[1] * 1000:.0f} ms late)")
            lags = lags[0]
            all_lags += lags
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = np.array(all_lags) * 1000
    print(f"accompaniment lag over {len(ms)} onsets ({options.runs} run(s) of {options.seconds:.0f} s, "
          f"tempo {'reported' if options.report_tempo else 'estimated'}):")
    print(f"  median {np.median(ms):+.1f} ms, p90 |lag| {np.percentile(np.abs(ms), 90):.1f} ms, "
          f"max |lag| {np.abs(ms).max():.1f} ms, mean {ms.mean():+.1f} ms")
    return 0


def _one_run(seconds: float, report_tempo: bool) -> list[float]:
    from sheetsync_accompaniment import synthetic
    from sheetsync_midi.ports import open_input

    performance = synthetic.Performance(CURVE, seconds)
    beats = int(performance.beat_at(seconds)) + 4
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "beats.mid")
        synthetic.beat_file(path, beats)
        name = f"lag-{uuid.uuid4().hex[:6]}"
        receiver = open_input(f"virtual:{name}", client="lag-receiver")
        try:
            recorder = synthetic.Recorder(receiver)
            time.sleep(0.2)
            start = synthetic.play_session(path, name, performance, report_tempo=report_tempo)
            time.sleep(0.2)
        finally:
            receiver.close()
    return synthetic.lags(recorder.note_ons(), performance, start), performance.lateness


def _start_jack() -> subprocess.Popen:
    name = f"sheetsync-lag-{uuid.uuid4().hex[:8]}"
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1", SHEETSYNC_MIDI_API="UNIX_JACK")
    server = subprocess.Popen(["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", "22050", "-p", "256"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    if server.poll() is not None:
        sys.exit("jackd did not start (Debian package jackd2)")
    return server


if __name__ == "__main__":
    sys.exit(main())
