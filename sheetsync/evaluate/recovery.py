"""How fast the follower recovers when the performer jumps back (a repeat, a restart of a passage).

A performance is cut and spliced: played from the start to `to` seconds, then
again from `back` seconds to the end. After the splice the truth is the
original performance's position at the matching time; the follower has
recovered once its position maps back to within `tolerance` seconds of that
truth and stays there for `hold` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.audio.features import FPS, SAMPLE_RATE, spectrogram
from sheetsync.evaluate.metrics import predicted_time
from sheetsync.evaluate.runner import open_piece


@dataclass(frozen=True)
class Recovery:
    """One spliced performance: where it jumped, and seconds until the follower was back (None: never)."""

    piece: str
    jump_from: float
    jump_to: float
    seconds: float | None


def measure_recovery(model, dataset, piece_id: str, fraction_from: float = 0.66, fraction_to: float = 0.33,
                     tolerance: float = 1.0, hold: float = 1.0, device: str = "cpu") -> Recovery:
    """Follow the spliced performance of one piece and time the recovery after the jump."""
    from sheetsync.tracking.tracker import Tracker

    piece, score, audio = open_piece(dataset, piece_id)
    duration = len(audio) / SAMPLE_RATE
    jump_from, jump_to = round(duration * fraction_from, 2), round(duration * fraction_to, 2)
    spliced = np.concatenate([audio[: int(jump_from * SAMPLE_RATE)], audio[int(jump_to * SAMPLE_RATE):]])
    pages = score.pages
    tracker = Tracker(model, score, device=device)
    back_at = None
    held = 0
    needed = int(round(hold * FPS))
    for frame, vector in enumerate(spectrogram(spliced)):
        position = tracker.step(vector)
        now = frame / FPS
        if now < jump_from:
            continue
        truth = now - jump_from + jump_to
        page = pages[position.page - 1]
        estimate = predicted_time(piece, position.page - 1, position.x * page.shape[1], position.y * page.shape[0],
                                  truth)
        if abs(estimate - truth) <= tolerance:
            back_at = now if held == 0 else back_at
            held += 1
            if held >= needed:
                return Recovery(piece_id, jump_from, jump_to, round(back_at - jump_from, 3))
        else:
            held = 0
    return Recovery(piece_id, jump_from, jump_to, None)
