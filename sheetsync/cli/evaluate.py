"""`sheetsync evaluate`: run the online follower over a dataset and report the paper's measures."""

from __future__ import annotations

import json
from pathlib import Path

from sheetsync.cli._common import add_command, add_tracking_options, tracker_settings

DESCRIPTION = """\
Follow every piece of a dataset exactly as `sheetsync follow` would (frame by
frame, LSTM state carried, pages decided by the follower) and report, as
shared/DATASET.md defines them: pixel precision, recall and F1 (threshold
0.5), mean and median alignment error in cm, the share of onsets tracked
within 0.05/0.1/0.5/1/5 s, page accuracy and milliseconds per frame.

examples:
  sheetsync evaluate --data data/corpus --split test
  sheetsync evaluate --data my_set --split all --checkpoint runs/cb/best --json metrics.json --limit 10
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "evaluate", "measure a model on a dataset", DESCRIPTION)
    parser.add_argument("--data", metavar="DIR", required=True, help="dataset folder (any set in the format)")
    parser.add_argument("--split", default="test", help="split to evaluate, or 'all' (default: test)")
    parser.add_argument("--checkpoint", metavar="PATH", help="model checkpoint (default: the shipped model)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N pieces")
    parser.add_argument("--json", metavar="FILE", help="write the measures as JSON")
    add_tracking_options(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from tqdm import tqdm

    from sheetsync.data.format import load_dataset
    from sheetsync.devices import select_device
    from sheetsync.evaluate.runner import evaluate_piece, report
    from sheetsync.model import checkpoint

    dataset = load_dataset(args.data)
    pieces = list(dataset.split(args.split))[: args.limit]
    device = select_device(args.device)
    model, _ = checkpoint.load(args.checkpoint, device=str(device))
    settings = tracker_settings(args)
    per_piece = {piece_id: evaluate_piece(model, dataset, piece_id, str(device), settings=settings)
                 for piece_id in tqdm(pieces, desc="evaluating", unit="piece")}
    result = report(per_piece)
    within = result["onsets"]["within"]
    print(f"{result['pieces']} pieces, {result['frames']} frames, {result['onsets']['count']} onsets")
    print(f"pixels: precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}")
    print(f"alignment error: mean {result['error_cm']['mean']:.2f} cm  median {result['error_cm']['median']:.2f} cm")
    print("onsets within " + "  ".join(f"{k} s: {v:.1%}" for k, v in within.items()))
    print(f"page accuracy {result['page_accuracy']:.1%};  {result['ms_per_frame']['median']:.1f} ms median, "
          f"{result['ms_per_frame']['p99']:.1f} ms p99 per frame on {device}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0
