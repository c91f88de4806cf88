"""What the plugin API costs per frame: the engine's per-frame dispatch with 0 and with 10 no-op plugins.

    python benchmarks/plugin_overhead.py [--frames 20000]

Prints microseconds per frame for `Engine.emit` (the position hook, the
measure and page-turn checks) and the share of the 50 ms between frames.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sheetsync.engine import Control, Engine
from sheetsync.events import PageInfo, Position, Session
from sheetsync.hookspecs import hookimpl
from sheetsync.plugins import plugin_manager


class NoOp:
    """A plugin that implements every per-frame hook and does nothing."""

    @hookimpl
    def sheetsync_position(self, position):
        pass

    @hookimpl
    def sheetsync_measure(self, position):
        pass

    @hookimpl
    def sheetsync_page_turn(self, page, position, early):
        pass


def per_frame_us(plugins: int, frames: int) -> np.ndarray:
    manager = plugin_manager(entry_points=False)
    for index in range(plugins):
        manager.register(NoOp(), name=f"noop-{index}")
    pages = tuple(PageInfo(number=n, width=850, height=1100, systems=((0, 0, 1, 1),) * 4) for n in (1, 2))
    engine = Engine(manager, tracker=None, session=Session("bench", "", pages, 20.0, "bench"), control=Control())
    positions = [Position(time=i / 20, frame=i, page=1 + (i // 2000) % 2, x=0.5, y=0.5, system=1 + (i // 500) % 4,
                          measure=1 + i // 40, progress=0.5, confidence=0.9) for i in range(frames)]
    times = np.empty(frames)
    for i, position in enumerate(positions):
        started = time.perf_counter()
        engine.emit(position)
        times[i] = time.perf_counter() - started
    return times * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20000)
    args = parser.parse_args()
    for plugins in (0, 10):
        us = per_frame_us(plugins, args.frames)
        print(f"{plugins:2d} no-op plugins: median {np.median(us):.1f} us, p99 {np.percentile(us, 99):.1f} us "
              f"per frame ({np.median(us) / 50_000:.3%} of the 50 ms between frames)")


if __name__ == "__main__":
    main()
