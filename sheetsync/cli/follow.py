"""`sheetsync follow`: follow a performance on a score and tell the plugins where it is."""

from __future__ import annotations

import sys

from sheetsync.cli._common import add_command, add_tracking_options, tracker_settings

DESCRIPTION = """\
Follow a performance on a score and report the position 20 times a second:
page, system, measure, x/y on the page, progress and confidence.

The score is a PDF, one or more page images, or a folder of page images (in
the order given). The audio is a recording (--audio, any format soundfile
reads) or a live input (the default input device when --audio is not given).
Positions go to the plugins: --jsonl writes them as JSON lines, and the
installed adapters add their own options (see `sheetsync plugins`).

examples:
  sheetsync follow examples/bach-bwv40.6.pdf --audio examples/bach-bwv40.6.flac --jsonl -
  sheetsync follow score.pdf --input-device 2 --osc 127.0.0.1:7400
  sheetsync follow page1.png page2.png --audio take.wav -p my_adapter.py
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "follow", "follow a performance on a score", DESCRIPTION)
    parser.add_argument("score", nargs="*", help="a PDF, page images, or a folder of page images")
    parser.add_argument("--audio", metavar="FILE", help="a recording to follow (default: live input)")
    parser.add_argument("--realtime", action="store_true",
                        help="pace the recording at real speed (default: as fast as possible)")
    parser.add_argument("--play", action="store_true",
                        help="play the recording on the default output device while following it (implies --realtime)")
    parser.add_argument("--input-device", metavar="NAME|INDEX", help="live input device (default: the system's)")
    parser.add_argument("--list-devices", action="store_true", help="list the sound devices and exit")
    parser.add_argument("--checkpoint", metavar="PATH", help="model checkpoint (default: the shipped model)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    add_tracking_options(parser)
    parser.add_argument("-p", "--plugin", action="append", default=[], metavar="MODULE|FILE.py",
                        help="load a plugin (repeatable)")
    manager.hook.sheetsync_addoption(parser=parser.add_argument_group("plugin options"))
    parser.set_defaults(run=run)


def run(args) -> int:
    from sheetsync.audio import sources
    from sheetsync.cli import current_plugin_manager
    from sheetsync.devices import select_device
    from sheetsync.engine import Config, Control, Engine, session_for
    from sheetsync.errors import SheetsyncError
    from sheetsync.model import checkpoint
    from sheetsync.plugins import HookCaller
    from sheetsync.score.load import load_score
    from sheetsync.tracking.tracker import Tracker

    if args.list_devices:
        print(sources.list_devices())
        return 0
    if not args.score:
        raise SheetsyncError("give a score to follow (a PDF, page images, or a folder of them)")
    manager = current_plugin_manager()
    device = select_device(args.device)
    model, _ = checkpoint.load(args.checkpoint, device=str(device))
    score = load_score(args.score)
    tracker = Tracker(model, score, tracker_settings(args), device=str(device))
    control = Control()
    config = Config(args, control)
    session = session_for(score, tracker, args.audio or "live input")
    try:
        manager.hook.sheetsync_configure(config=config)
        source = manager.hook.sheetsync_audio_source(config=config) or _built_in_source(args)
    except BaseException:
        # Plugins configured so far may hold ports or threads: session_end is their one place to let go.
        HookCaller(manager).call("sheetsync_session_end", session=session, reason="error")
        raise
    engine = Engine(manager, tracker, session, control)
    reason = engine.run(source)
    if engine.latencies:
        import numpy as np

        ms = np.array(engine.latencies) * 1000
        print(f"sheetsync: {reason}: {len(ms)} frames, {np.median(ms):.1f} ms median, "
              f"{np.percentile(ms, 99):.1f} ms p99 per frame on {device}", file=sys.stderr)
    return 0 if reason in ("end", "stopped") else 130 if reason == "interrupted" else 1


def _built_in_source(args):
    """The recording given with --audio, or the live input."""
    from sheetsync.audio import sources

    if args.audio:
        return sources.FileSource(args.audio, realtime=args.realtime, play=args.play)
    if args.play:
        from sheetsync.errors import SheetsyncError

        raise SheetsyncError("--play plays a recording: give it with --audio")
    device_name = int(args.input_device) if (args.input_device or "").isdigit() else args.input_device
    return sources.LiveSource(device_name)
