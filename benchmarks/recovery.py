"""Time the follower's recovery after a jump back (a repeat), over pieces of a dataset split.

    python benchmarks/recovery.py --data data/corpus [--split test] [--limit 10] [--checkpoint PATH]

Each piece is played to 2/3 of its length, then again from 1/3 (see
sheetsync/evaluate/recovery.py); prints per piece the seconds until the
follower was back within 1 s of the truth for 1 s, and the median.
"""

from __future__ import annotations

import argparse

import numpy as np

from sheetsync.data.format import load_dataset
from sheetsync.evaluate.recovery import measure_recovery
from sheetsync.model import checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--checkpoint")
    args = parser.parse_args()
    model, _ = checkpoint.load(args.checkpoint)
    dataset = load_dataset(args.data)
    results = [measure_recovery(model, dataset, piece_id) for piece_id in dataset.split(args.split)[: args.limit]]
    for result in results:
        shown = f"{result.seconds:.2f} s" if result.seconds is not None else "never"
        print(f"{result.piece}: jump {result.jump_from:.1f} s -> {result.jump_to:.1f} s, recovered after {shown}")
    times = [r.seconds for r in results if r.seconds is not None]
    median = f"{np.median(times):.2f} s" if times else "n/a"
    print(f"recovered {len(times)}/{len(results)}; median {median}")


if __name__ == "__main__":
    main()
