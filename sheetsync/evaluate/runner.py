"""`sheetsync evaluate`: run the online follower over every piece of a set and measure it."""

from __future__ import annotations

import time

import numpy as np

from sheetsync.audio.features import FPS, spectrogram
from sheetsync.data.targets import band_masks, band_width, onset_groups, track
from sheetsync.evaluate.metrics import TOLERANCES, Totals, centre_of_mass, predicted_time
from sheetsync.score.images import model_scale
from sheetsync.score.load import Score


def evaluate_piece(model, dataset, piece_id: str, device: str = "cpu", follower=None, settings=None) -> Totals:
    """Follow one piece frame by frame (pages decided by the follower) and count against the truth.

    settings: the Tracker's TrackerSettings (default: its defaults).
    follower: what to measure instead of the model's Tracker: a callable (score, piece) -> an object with
        `step(frame) -> Position` and `maps` (this frame's probability maps by 0-based page, model pixels).
    """
    from sheetsync.tracking.tracker import Tracker, TrackerSettings

    piece, score, audio = open_piece(dataset, piece_id)
    pages = score.pages
    settings = settings or TrackerSettings()
    tracker = follower(score, piece) if follower else Tracker(model, score, settings, device=device)
    features = spectrogram(audio)
    truth = track(piece, len(features))
    totals = Totals()
    predicted_at: list[tuple[int, float, float]] = []
    for frame, vector in enumerate(features):
        started = time.perf_counter()
        position = tracker.step(vector)
        totals.ms.append((time.perf_counter() - started) * 1000)
        page = position.page - 1
        predicted_at.append((page, position.x * pages[page].shape[1], position.y * pages[page].shape[0]))
        if truth.page[frame] < 0:
            continue
        probabilities = tracker.maps[page] >= 0.5
        true_page = int(truth.page[frame])
        height = probabilities.shape[0]  # the model's page height
        scale = model_scale(pages[true_page].shape[0], height)
        box = piece.systems[truth.system[frame]].bbox
        target = band_masks(np.array([truth.x[frame] * scale]), np.array([box[1] * scale]), np.array([box[3] * scale]),
                            _model_shape(pages[true_page], scale), band_width(height))[0]
        totals.frames += 1
        totals.actual += float(target.sum())
        totals.predicted += float(probabilities.sum())
        if page == true_page:
            totals.right_page += 1
            totals.true_positive += float((probabilities & (target > 0)).sum())
            found, wanted = centre_of_mass(probabilities.astype(float)), centre_of_mass(target)
            if found is not None and wanted is not None:
                pixels = np.hypot(found[0] - wanted[0], found[1] - wanted[1]) / scale
                totals.errors_cm.append(pixels * 2.54 / piece.pages[true_page].dpi)
    times, _, _ = onset_groups(piece)
    for onset_time in times:
        frame = min(int(np.ceil(onset_time * FPS - 1e-9)), len(predicted_at) - 1)  # the first frame it sounds in
        totals.onset_errors.append(abs(predicted_time(piece, *predicted_at[frame], onset_time) - onset_time))
    return totals


def open_piece(dataset, piece_id: str):
    """A dataset piece ready to follow: its description, its pages as a Score, and its recording."""
    from sheetsync.audio.io import load_audio
    from sheetsync.data.format import read_page_image

    piece = dataset.load_piece(piece_id)
    folder = dataset.piece_dir(piece_id)
    pages = [read_page_image(folder / p.image) for p in piece.pages]
    return piece, Score(piece.title, pages, [str(folder)], None), load_audio(folder / piece.audio)


def _model_shape(page: np.ndarray, scale: float) -> tuple[int, int]:
    return round(page.shape[0] * scale), round(page.shape[1] * scale)


def report(per_piece: dict[str, Totals]) -> dict:
    """The JSON of `sheetsync evaluate --json`: exactly the documented keys."""
    total = Totals()
    for totals in per_piece.values():
        total.add(totals)
    errors = np.asarray(total.errors_cm) if total.errors_cm else np.zeros(1)
    ms = np.asarray(total.ms) if total.ms else np.zeros(1)
    return {
        "pieces": len(per_piece), "frames": total.frames,
        "precision": total.precision, "recall": total.recall, "f1": total.f1,
        "error_cm": {"mean": float(errors.mean()), "median": float(np.median(errors))},
        "onsets": {"count": len(total.onset_errors),
                   "within": {_key(t): total.within(t) for t in TOLERANCES}},
        "page_accuracy": total.right_page / total.frames if total.frames else 0.0,
        "ms_per_frame": {"median": float(np.median(ms)), "p99": float(np.percentile(ms, 99))},
        "per_piece": [{"id": piece_id, "f1": totals.f1, "within_0.5": totals.within(0.5)}
                      for piece_id, totals in per_piece.items()],
    }


def _key(seconds: float) -> str:
    return f"{seconds:g}"
