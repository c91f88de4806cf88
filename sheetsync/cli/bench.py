"""`sheetsync bench`: the follower's per-frame latency on this machine."""

from __future__ import annotations

import json
from pathlib import Path

from sheetsync.cli._common import add_command

DESCRIPTION = """\
Measure the follower's per-frame latency on this machine: the whole
per-frame path of `sheetsync follow` (features, audio step, U-Net on the
current page, reading the map) with the model on a real page, as median,
p90 and p99 milliseconds, and the real-time factor (median frame time over
the 50 ms between frames; below 1 keeps up).

examples:
  sheetsync bench
  sheetsync bench --frames 400 --device cuda --json bench.json
"""

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bach-bwv40.6.pdf"


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "bench", "measure per-frame latency", DESCRIPTION)
    parser.add_argument("score", nargs="*", help="score to run on (default: the shipped example)")
    parser.add_argument("--checkpoint", metavar="PATH", help="model checkpoint (default: the shipped model)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    parser.add_argument("--frames", type=int, default=200, help="frames to time (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first (default 10)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    from sheetsync.benchmark import measure

    if not args.score and not EXAMPLE.exists():
        from sheetsync.errors import SheetsyncError

        raise SheetsyncError("the example score is not installed with the package: give a score to bench on")
    result = measure(args.score or [EXAMPLE], args.checkpoint, args.device, args.frames, args.warmup)
    print(f"{result['frames']} frames on {result['device']} ({result['threads']} threads), page "
          f"{result['page_size'][1]}x{result['page_size'][0]} px at model resolution")
    print(f"per frame: median {result['ms_per_frame']['median']:.1f} ms, p90 {result['ms_per_frame']['p90']:.1f} ms, "
          f"p99 {result['ms_per_frame']['p99']:.1f} ms; real-time factor {result['real_time_factor']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0
