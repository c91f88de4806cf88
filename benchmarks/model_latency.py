"""Model latency on this CPU: per-frame following (audio path, U-Net) and one training step.

    python benchmarks/model_latency.py [--threads 2] [--repeats 30] [--train-repeats 3] [--skip-training]

Prints medians (and the 90th percentile for per-frame work) in milliseconds.
On a machine shared with other work the numbers are noisy: compare runs
taken at the same time, not across days.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from sheetsync.model.config import PAPER
from sheetsync.model.network import ScoreFollower

PAGE = (393, 278)  # an A4 page at the paper's resolution


def timed(function, repeats: int, warmup: int = 2) -> list[float]:
    """Wall times in ms of `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"median {statistics.median(times):7.2f} ms   p90 {p90:7.2f} ms   (n={len(times)})"


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
    """Median ms of forward, backward and Adam for `batch` sequences of `length` frames."""
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    pages = (torch.rand(batch, 1, *size, generator=generator) > 0.9).float()
    windows = torch.rand(batch, length, 78, model.config.frames_in, generator=generator)
    steps = None
    if unet_steps is not None:
        steps = torch.stack([torch.randperm(length, generator=generator)[:unet_steps].sort().values
                             for _ in range(batch)])
    targets = torch.zeros(batch, unet_steps or length, 1, *size)
    targets[..., size[0] // 3: size[0] // 3 + 20, size[1] // 2] = 1
    parts: dict[str, list[float]] = {"forward": [], "backward": [], "adam": [], "total": []}
    for repeat in range(repeats + 1):
        start = time.perf_counter()
        logits, _ = model(pages, windows, steps=steps)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
        forward = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        backward = time.perf_counter()
        optimiser.step()
        end = time.perf_counter()
        if repeat:  # the first is warm-up
            for key, value in zip(parts, (forward - start, backward - forward, end - backward, end - start)):
                parts[key].append(value * 1000)
    return {key: statistics.median(values) for key, values in parts.items()}


def training(repeats: int) -> None:
    half = (PAGE[0] // 2, PAGE[1] // 2)
    cases = [
        ("paper: 4 x 16 frames, 393x278, U-Net on every frame", {}, PAGE, None),
        ("same, channels_last", {"channels_last": True}, PAGE, None),
        ("U-Net on 4 of the 16 frames (LSTM sees all 16)", {}, PAGE, 4),
        ("half resolution pages (196x139)", {}, half, None),
        ("NTC variant (no LSTM)", {"variant": "NTC"}, PAGE, None),
    ]
    for label, options, size, unet_steps in cases:
        torch.manual_seed(0)
        model = ScoreFollower(PAPER.replace(variant=options.get("variant", "CB")))
        model.use_channels_last(options.get("channels_last", False))
        result = training_step(model, 4, 16, size, repeats, unet_steps)
        print(f"  {label}:\n      " + "   ".join(f"{k} {v:7.0f} ms" for k, v in result.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per per-frame measurement")
    parser.add_argument("--train-repeats", type=int, default=3, help="timed training steps per case")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, page {PAGE[0]}x{PAGE[1]} "
          f"(padded to {-(-PAGE[0] // 16) * 16}x{-(-PAGE[1] // 16) * 16})")
    print("Following, per frame (one page, batch 1):")
    following(args.repeats)
    if not args.skip_training:
        print("Training step (forward + backward + Adam), batch 4 sequences x 16 frames:")
        training(args.train_repeats)


if __name__ == "__main__":
    main()
