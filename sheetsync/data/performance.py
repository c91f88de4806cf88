"""Perform engraved notes: warp their times with a tempo curve and shape their loudness.

The onsets this returns follow the synthesised audio exactly: both come from
the same warped note starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.data.engrave import EngravedNote
from sheetsync.data.format import Onset
from sheetsync.data.synth import Note
from sheetsync.data.tempo import random_curve

LEAD_IN = 0.5


@dataclass(frozen=True)
class Performance:
    """Notes to synthesise, the dataset onsets that match them, and how the tempo was shaped."""

    notes: tuple[Note, ...]
    onsets: tuple[Onset, ...]
    tempo: dict


def perform(notes: list[EngravedNote], rng: np.random.Generator) -> Performance:
    """A performance of `notes` with a random tempo curve and smooth random dynamics."""
    starts = np.array([n.start for n in notes])
    ends = np.array([max(n.end, n.start + 0.05) for n in notes])
    curve = random_curve(rng, float(ends.max()))
    played_starts = LEAD_IN + curve(starts)
    played_ends = LEAD_IN + curve(ends)
    velocities = _dynamics(rng, played_starts)
    synth_notes = tuple(Note(float(s), float(e), n.pitch, int(v))
                        for n, s, e, v in zip(notes, played_starts, played_ends, velocities))
    onsets = tuple(Onset(round(float(s), 4), n.page, n.system, round(n.x, 2), round(n.y, 2), n.pitch)
                   for n, s in zip(notes, played_starts))
    return Performance(synth_notes, onsets, curve.describe())


def _dynamics(rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """Velocities following a slow random loudness curve, with a little per-note variation."""
    span = float(times.max()) + 1.0
    knots = np.linspace(0.0, span, max(2, int(span / 8.0) + 2))
    levels = rng.uniform(45, 105, size=len(knots))
    curve = np.interp(times, knots, levels)
    return np.clip(np.round(curve + rng.normal(0, 6, size=len(times))), 20, 127)
