"""Tempo curves: how a performer's time departs from the score's.

A curve maps score time (seconds at the notated tempo) to performance time by
integrating 1 / tempo factor over score time, so it is strictly increasing
whatever the curve: factor 2 plays twice as fast, halving every time.

The tempo factor is a global factor times a local curve. The local curve is
given at knots and eased between them (smoothstep in log tempo), so the local
tempo is continuous with a continuous slope and never leaves the range of its
knot values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

RESOLUTION = 0.02  # seconds of score time between integration points


@dataclass(frozen=True)
class TempoCurve:
    """A global tempo factor times a local one eased between knots (score seconds); call it on score times."""

    kind: str
    factor: float = 1.0
    knots: tuple[float, ...] = (0.0,)
    local: tuple[float, ...] = (1.0,)

    def __post_init__(self):
        knots, local = np.asarray(self.knots, float), np.asarray(self.local, float)
        if not self.factor > 0 or len(knots) != len(local) or len(knots) == 0 or not np.all(local > 0):
            raise ValueError(f"tempo factors must be positive, one per knot: {self}")
        if np.any(np.diff(knots) <= 0):
            raise ValueError(f"tempo knots must increase: {self.knots}")

    def factors(self, score_times) -> np.ndarray:
        """The tempo factor (>1 faster) at each score time."""
        times = np.asarray(score_times, dtype=np.float64)
        knots, logs = np.asarray(self.knots), np.log(self.local)
        if len(knots) == 1:
            return np.full(times.shape, self.factor * self.local[0])
        i = np.clip(np.searchsorted(knots, times, side="right") - 1, 0, len(knots) - 2)
        u = np.clip((times - knots[i]) / (knots[i + 1] - knots[i]), 0.0, 1.0)
        eased = logs[i] + (logs[i + 1] - logs[i]) * u * u * (3 - 2 * u)
        return self.factor * np.exp(eased)

    def __call__(self, score_times) -> np.ndarray:
        """Performance times (s) of score times (s); score time 0 is performance time 0."""
        times = np.asarray(score_times, dtype=np.float64)
        end = max(float(np.max(times, initial=0.0)), self.knots[-1])
        grid = np.arange(0.0, end + 2 * RESOLUTION, RESOLUTION)
        rates = 1.0 / self.factors(grid)
        elapsed = np.concatenate([[0.0], np.cumsum((rates[1:] + rates[:-1]) / 2 * RESOLUTION)])
        # Before the piece starts the tempo is the opening one.
        return np.where(times >= 0, np.interp(times, grid, elapsed), times * rates[0])

    def scaled(self, factor: float) -> TempoCurve:
        """The same local curve at `factor` times the global tempo."""
        return replace(self, factor=self.factor * factor)

    def describe(self) -> dict:
        """JSON-safe provenance for piece.json: enough to rebuild the curve with `from_description`."""
        return {"kind": str(self.kind), "factor": round(float(self.factor), 4),
                "local_min": round(float(min(self.local)), 4), "local_max": round(float(max(self.local)), 4),
                "knots": [round(float(k), 3) for k in self.knots], "local": [round(float(v), 5) for v in self.local]}

    @classmethod
    def from_description(cls, description: dict) -> TempoCurve:
        """The curve `describe` wrote (to its rounding)."""
        return cls(description["kind"], description["factor"], tuple(description["knots"]),
                   tuple(description["local"]))


def constant(factor: float) -> TempoCurve:
    """A steady tempo `factor` times the notated one."""
    return TempoCurve("constant", float(factor))


def gradual(start: float, end: float, duration: float, factor: float = 1.0) -> TempoCurve:
    """Local tempo easing from `start` to `end` over [0, duration]: accelerando if end > start, else ritardando."""
    kind = "accelerando" if end > start else "ritardando" if end < start else "constant"
    return TempoCurve(kind, float(factor), (0.0, max(float(duration), RESOLUTION)), (float(start), float(end)))


def rubato(rng: np.random.Generator, duration: float, depth: float = 0.15, period: float = 3.0,
           factor: float = 1.0) -> TempoCurve:
    """Smooth random fluctuation of the local tempo, within exp(+-depth).

    Log tempo is a mean-reverting random walk (AR(1), a low-pass of white noise)
    sampled every `period` score seconds and squashed by tanh into +-depth.
    """
    count = max(2, int(np.ceil(duration / period)) + 1)
    knots = np.arange(count) * period
    walk = np.empty(count)
    walk[0] = rng.normal(0.0, 0.5)
    for k in range(1, count):
        walk[k] = 0.6 * walk[k - 1] + 0.8 * rng.normal(0.0, 0.5)  # stationary spread 0.5
    return TempoCurve("rubato", float(factor), tuple(knots.tolist()), tuple(np.exp(depth * np.tanh(walk)).tolist()))


def random_curve(rng: np.random.Generator, duration: float, factor_range=(0.5, 1.5)) -> TempoCurve:
    """A global factor uniform in `factor_range` times one of: steady, accelerando, ritardando, rubato.

    Local changes take the tempo up to about 20% beyond the global factor.
    """
    factor = float(rng.uniform(*factor_range))
    kind = str(rng.choice(["constant", "accelerando", "ritardando", "rubato"], p=[0.3, 0.15, 0.15, 0.4]))
    if kind == "constant":
        return constant(factor)
    if kind == "rubato":
        return rubato(rng, duration, depth=float(rng.uniform(0.05, 0.2)), period=float(rng.uniform(2.0, 5.0)),
                      factor=factor)
    change = float(rng.uniform(0.15, 0.4))
    slow, fast = 1 - change / 2, 1 + change / 2
    return gradual(slow, fast, duration, factor) if kind == "accelerando" else gradual(fast, slow, duration, factor)
