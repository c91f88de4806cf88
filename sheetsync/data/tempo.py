"""Tempo curves: how a performer's time departs from the score's.

A curve maps score time (seconds at the notated tempo) to performance time.
It integrates 1/tempo-factor over score time, so it is strictly increasing
whatever the curve: factor 2 plays twice as fast, halving every time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESOLUTION = 0.05  # seconds of score time between tabulated points


@dataclass(frozen=True)
class TempoCurve:
    """Local tempo factor over score time, tabulated; call it on score times."""

    kind: str
    factor: float
    knots: tuple[float, ...] = (0.0,)
    local: tuple[float, ...] = (1.0,)

    def factors(self, score_times: np.ndarray) -> np.ndarray:
        """The local tempo factor (>1 faster) at each score time."""
        return self.factor * np.interp(score_times, self.knots, self.local)

    def __call__(self, score_times) -> np.ndarray:
        score_times = np.asarray(score_times, dtype=np.float64)
        end = max(float(np.max(score_times, initial=0.0)), self.knots[-1]) + RESOLUTION
        grid = np.arange(0.0, end + RESOLUTION, RESOLUTION)
        rates = 1.0 / self.factors(grid)
        elapsed = np.concatenate([[0.0], np.cumsum((rates[1:] + rates[:-1]) / 2 * np.diff(grid))])
        return np.interp(score_times, grid, elapsed)

    def describe(self) -> dict:
        """JSON-safe provenance for piece.json."""
        local = np.asarray(self.local)
        return {"kind": self.kind, "factor": round(self.factor, 4),
                "local_min": round(float(local.min()), 4), "local_max": round(float(local.max()), 4)}


def constant(factor: float) -> TempoCurve:
    return TempoCurve("constant", factor)


def gradual(factor: float, start: float, end: float, duration: float) -> TempoCurve:
    """Accelerando (end > start) or ritardando (end < start) over the whole piece, smoothly."""
    knots = np.linspace(0.0, max(duration, RESOLUTION), 32)
    eased = (1 - np.cos(np.pi * knots / knots[-1])) / 2
    kind = "accelerando" if end > start else "ritardando"
    return TempoCurve(kind, factor, tuple(knots), tuple(start + (end - start) * eased))


def rubato(factor: float, rng: np.random.Generator, duration: float, depth: float = 0.2,
           period: float = 4.0) -> TempoCurve:
    """Smooth random fluctuation of the local tempo within +-depth (in log tempo)."""
    count = max(2, int(duration / period) + 2)
    knots = np.linspace(0.0, max(duration, RESOLUTION), count)
    steps = rng.normal(0.0, depth / 2, size=count)
    walk = np.clip(np.cumsum(steps) - np.cumsum(steps).mean(), -depth, depth)
    return TempoCurve("rubato", factor, tuple(knots), tuple(np.exp(walk)))


def random_curve(rng: np.random.Generator, duration: float, factor_range=(0.5, 1.5)) -> TempoCurve:
    """A global tempo factor in `factor_range` with one of: steady, accelerando, ritardando, rubato."""
    factor = float(rng.uniform(*factor_range))
    kind = rng.choice(["constant", "accelerando", "ritardando", "rubato"], p=[0.3, 0.15, 0.15, 0.4])
    if kind == "constant":
        return constant(factor)
    if kind == "rubato":
        return rubato(factor, rng, duration, depth=float(rng.uniform(0.08, 0.25)))
    change = float(rng.uniform(0.15, 0.4))
    start, end = (1 - change / 2, 1 + change / 2) if kind == "accelerando" else (1 + change / 2, 1 - change / 2)
    return gradual(factor, start, end, duration)
