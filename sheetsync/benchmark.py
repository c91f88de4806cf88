"""Timing the follower's per-frame path, for `sheetsync bench`."""

from __future__ import annotations

import time

import numpy as np
import torch

from sheetsync.audio.features import FPS, SAMPLE_RATE


def measure(score_paths, checkpoint_path, device_name: str, frames: int, warmup: int) -> dict:
    """Per-frame latency of the tracker on a real score, fed about one frame of noise at a time.

    A push that completes several frames counts its time shared among them.
    """
    from sheetsync.devices import select_device
    from sheetsync.model import checkpoint
    from sheetsync.score.load import load_score
    from sheetsync.tracking.tracker import Tracker

    device = select_device(device_name)
    model, _ = checkpoint.load(checkpoint_path, device=str(device))
    score = load_score(score_paths)
    tracker = Tracker(model, score, device=str(device))
    hop = SAMPLE_RATE // FPS
    audio = np.random.default_rng(0).normal(0, 0.1, (warmup + frames + 2) * hop).astype(np.float32)
    times: list[float] = []
    start = 0
    while len(times) < warmup + frames and start < len(audio):
        started = time.perf_counter()
        emitted = len(tracker.push_audio(audio[start:start + hop]))
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = (time.perf_counter() - started) * 1000
        start += hop
        if emitted:  # hops are 1102.5 samples: now and then a block completes no frame
            times += [elapsed / emitted] * emitted
    ms = np.array(times[warmup:warmup + frames])
    return {"device": str(device), "threads": torch.get_num_threads(), "frames": int(len(ms)),
            "page_size": [tracker.caches[0].height, tracker.caches[0].width],
            "ms_per_frame": {"median": float(np.median(ms)), "p90": float(np.percentile(ms, 90)),
                             "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())},
            "real_time_factor": float(np.median(ms) / (1000 / FPS))}
