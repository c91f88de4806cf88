"""Model latency on this CPU: per-frame following (audio path, U-Net) and one training step.

    python benchmarks/model_latency.py [--threads 2] [--repeats 30] [--train-repeats 3] [--skip-training]

Prints medians (and the 90th percentile for per-frame work) in milliseconds,
of wall time and of this process's CPU time. On a machine shared with other
work the wall times are inflated and noisy (two threads suffer most: each
waits for the other); with --threads 1 the CPU time stays close to what an
idle machine would take, whatever the load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from sheetsync.model.config import PAPER
from sheetsync.model.network import ScoreFollower

PAGE = (393, 278)  # an A4 page at the paper's resolution


def timed(function, repeats: int, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Wall and CPU times in ms of `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def summary(times: tuple[list[float], list[float]]) -> str:
    wall, cpu = times
    p90 = sorted(wall)[min(len(wall) - 1, int(0.9 * len(wall)))]
    return (f"wall median {statistics.median(wall):7.2f} p90 {p90:7.2f}   "
            f"cpu median {statistics.median(cpu):7.2f}   (n={len(wall)})")


def page(height: int, width: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return (torch.rand(1, 1, height, width, generator=generator) > 0.9).float()


def following(repeats: int) -> None:
    """Per-frame latency: step (audio -> z) and predict (U-Net after block A), plain and channels_last."""
    for variant in ("CB", "FB", "NTC"):
        model = ScoreFollower(PAPER.replace(variant=variant)).eval()
        window = torch.rand(78, model.config.frames_in)
        state = [None]

        def step():
            _, state[0] = model.step(window, state[0])

        print(f"  audio path ({variant}) step:          {summary(timed(step, repeats * 3))}")
    model = ScoreFollower(PAPER).eval()
    z, _ = model.step(torch.rand(78, 40))
    for layout in ("plain", "channels_last"):
        model.use_channels_last(layout == "channels_last")
        cache = model.prepare_page(page(*PAGE))
        print(f"  {layout:13s} prepare_page (block A): {summary(timed(lambda: model.prepare_page(page(*PAGE)), repeats))}")
        print(f"  {layout:13s} predict (U-Net B-I):    {summary(timed(lambda: model.predict(cache, z), repeats))}")
        with torch.no_grad():
            padded = model.pad(page(*PAGE))
            if model.channels_last:
                padded = padded.contiguous(memory_format=torch.channels_last)
            full = timed(lambda: model.unet(padded, z), repeats)
        print(f"  {layout:13s} whole U-Net, no cache:  {summary(full)}")


def training_step(model: ScoreFollower, batch: int, length: int, size: tuple[int, int], repeats: int,
                  unet_steps: int | None = None) -> dict[str, float]:
    """Median wall ms of forward, backward and Adam (and CPU ms of all) for `batch` sequences of `length` frames."""
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    pages = (torch.rand(batch, 1, *size, generator=generator) > 0.9).float()
    windows = torch.rand(batch, length, 78, model.config.frames_in, generator=generator)
    frames = None
    if unet_steps is not None:
        frames = torch.stack([torch.randperm(length, generator=generator)[:unet_steps].sort().values
                             for _ in range(batch)])
    targets = torch.zeros(batch, unet_steps or length, 1, *size)
    targets[..., size[0] // 3: size[0] // 3 + 20, size[1] // 2] = 1
    parts: dict[str, list[float]] = {"forward": [], "backward": [], "adam": [], "total": [], "total cpu": []}
    for repeat in range(repeats + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        logits, _ = model(pages, windows, steps=frames)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
        forward = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        backward = time.perf_counter()
        optimiser.step()
        end, end_cpu = time.perf_counter(), time.process_time()
        if repeat:  # the first is warm-up
            for key, value in zip(parts, (forward - start, backward - forward, end - backward, end - start,
                                          end_cpu - start_cpu)):
                parts[key].append(value * 1000)
    return {key: statistics.median(values) for key, values in parts.items()}


TRAINING_CASES = [
    ("paper: 393x278 pages, U-Net on every frame", False, PAGE, None),
    ("same, channels_last", True, PAGE, None),
    ("U-Net on 4 of the 16 frames (the LSTM still sees all 16)", False, PAGE, 4),
    ("half-resolution pages (196x139)", False, (PAGE[0] // 2, PAGE[1] // 2), None),
    ("all three: channels_last, half resolution, U-Net on 4 of 16 frames", True, (PAGE[0] // 2, PAGE[1] // 2), 4),
]


def training_case(number: int, repeats: int, threads: int) -> dict[str, float]:
    """One training case, in a fresh process so that its peak memory is its own."""
    torch.set_num_threads(threads)
    _, channels_last, size, unet_steps = TRAINING_CASES[number - 1]
    torch.manual_seed(0)
    model = ScoreFollower(PAPER).use_channels_last(channels_last)
    result = training_step(model, 4, 16, size, repeats, unet_steps)
    result["peak memory (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def training(repeats: int, chosen: list[int]) -> None:
    context = multiprocessing.get_context("spawn")
    for number, (label, *_) in enumerate(TRAINING_CASES, 1):
        if chosen and number not in chosen:
            continue
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            result = pool.submit(training_case, number, repeats, torch.get_num_threads()).result()
        print(f"  {number}. {label}:\n      " + "   ".join(
            f"{k} {v:.0f}" + ("" if "MB" in k else " ms") for k, v in result.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per per-frame measurement")
    parser.add_argument("--train-repeats", type=int, default=3, help="timed training steps per case")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-following", action="store_true")
    parser.add_argument("--cases", default="", help="comma-separated numbers of the training cases to run (all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, page {PAGE[0]}x{PAGE[1]} "
          f"(padded to {-(-PAGE[0] // 16) * 16}x{-(-PAGE[1] // 16) * 16})")
    if not args.skip_following:
        print("Following, per frame (one page, batch 1):")
        following(args.repeats)
    if not args.skip_training:
        print("Training step (forward + backward + Adam), batch 4 sequences x 16 frames:")
        training(args.train_repeats, [int(c) for c in args.cases.split(",") if c])


if __name__ == "__main__":
    main()
