"""Training sequences: parallel streams that each play whole pieces from the start, chunk by chunk.

The LSTM state of a stream carries from chunk to chunk (truncated
back-propagation) and is reset whenever a stream starts a new piece. A
stream's position and random generator are plain data, so training resumes
exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.train.data import PieceTensors


@dataclass
class Chunk:
    """The next `length` frames of one stream: frame indices (the last repeated past the end), and the
    seed of the audio augmentation of the performance it belongs to."""

    piece: int
    frames: np.ndarray
    valid: np.ndarray
    reset: bool
    augment_seed: int


class Streams:
    """`count` streams over `pieces`, each yielding chunks of `length` frames."""

    def __init__(self, pieces: list[PieceTensors], count: int, length: int, seed: int):
        self.pieces, self.length = pieces, length
        self.rngs = [np.random.default_rng([seed, i]) for i in range(count)]
        self.piece = [-1] * count
        self.position = [0] * count
        self.augment_seed = [0] * count

    def next(self) -> list[Chunk]:
        return [self._next(i) for i in range(len(self.rngs))]

    def _next(self, stream: int) -> Chunk:
        if self.piece[stream] < 0 or self.position[stream] >= len(self.pieces[self.piece[stream]]):
            self.piece[stream] = int(self.rngs[stream].integers(len(self.pieces)))
            self.augment_seed[stream] = int(self.rngs[stream].integers(2 ** 31))
            self.position[stream] = 0
        piece = self.pieces[self.piece[stream]]
        start = self.position[stream]
        wanted = np.arange(start, start + self.length)
        frames = np.minimum(wanted, len(piece) - 1)
        valid = (wanted < len(piece)) & (piece.page[frames] >= 0)
        self.position[stream] = start + self.length
        return Chunk(self.piece[stream], frames, valid, reset=start == 0, augment_seed=self.augment_seed[stream])

    def rng(self, stream: int) -> np.random.Generator:
        return self.rngs[stream]

    def state_dict(self) -> dict:
        return {"piece": list(self.piece), "position": list(self.position), "augment_seed": list(self.augment_seed),
                "rng": [r.bit_generator.state for r in self.rngs]}

    def load_state_dict(self, state: dict) -> None:
        self.piece, self.position = list(state["piece"]), list(state["position"])
        self.augment_seed = list(state["augment_seed"])
        for rng, saved in zip(self.rngs, state["rng"]):
            rng.bit_generator.state = saved
