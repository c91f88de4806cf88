"""Evidence: how well each position of the reading order matches one frame of audio.

Two kinds, by what the model offers:

- registers (a model that reads notes and hears registers: page path "notes",
  audio variant "PH"): the note reader says which registers each column of a
  page prints, the hearing which sound now; a position's evidence is the
  cosine of the two, weighed less when the registers are heard faintly (a
  rest, a note dying away: `heard_full`). A printed note sounds on until
  the next one, so a column printing little takes the registers of the last
  note before it. "Little" is relative to the system's strongest column: one
  voice prints a fraction of what four do (a lone notehead sums to about
  0.3, a chord to 2 or more);
- maps (any model): the network's own probability map of a page, its
  largest value down each column of each system. Pages not read this frame
  say only `map_floor`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetsync.tracking.alignment import ReadingOrder


@dataclass(frozen=True)
class EvidenceSettings:
    # register evidence: likelihood exp(sharpness * (cosine - the frame's best)). Softer evidence keeps some mass
    # on both of two identical printed passages until the music tells them apart. Pixel F1 on 36 long composed
    # development pieces (speed_change 0.003): 2.0 / 1.5 give 0.656 / 0.667 with the former jumps (forward_jumps
    # 1e-3, restart 1e-6); with the present ones 2.0 / 1.75 give 0.664 / 0.669. On validation the four give 0.728 /
    # 0.722 / 0.729 / 0.728.
    sharpness: float = 1.75
    # a column holds the last note's registers when it prints (summed register evidence) less than held_share of
    # its system's strongest column, or than held_below
    held_below: float = 1.0
    held_share: float = 0.3
    # leave out of the reading order each system's columns before its first printed note (clef, key and time
    # signatures): the belief would have to cross them at the performer's pace after every system's last note
    skip_lead_ins: bool = True
    # show a system's last note where it is printed while it sounds, not moved on across the space after it (the
    # last note: where some register printed "here" last rises by note_rise). On 114 validation pieces, off / on:
    # pixel F1 0.697 / 0.728, onsets within 0.5 s 93.4 / 93.0%
    hold_last_notes: bool = True
    note_rise: float = 0.15
    # the evidence is at full sharpness once the heard registers' norm reaches heard_full, weaker below it (a rest,
    # a note dying away: faint, noisy hearing). 114 validation pieces, 0 (off) / 0.7 / 1.0 / 1.3 / 1.6: 88.2 / 88.5 /
    # 88.6 / 88.7 / 88.2% of onsets within 0.5 s, pixel F1 0.669 / 0.670 / 0.671 / 0.672 / 0.670
    heard_full: float = 1.3
    map_floor: float = 0.1  # map evidence: likelihood (map_floor + map) ** map_power
    map_power: float = 0.5


def column_registers(order: ReadingOrder, pages: list[np.ndarray]) -> np.ndarray:
    """(N, registers) the registers each position's own column prints (its system's rows), none held on."""
    columns = np.zeros((len(order), pages[0].shape[0] if pages else 0), dtype=np.float32)
    for page, features in enumerate(pages):
        for system in order.systems_on(page):
            rows = features[:, order.top[system.start]:order.bottom[system.start]]
            columns[system] = rows[:, :, order.column[system]].max(axis=1).T
    return columns


def held_on(order: ReadingOrder, columns: np.ndarray, held_below: float, held_share: float) -> np.ndarray:
    """(N, registers) the column registers, a column that prints little taking those of the last note before it:
    less than held_share of its system's strongest column, or than held_below."""
    printed = columns.copy()
    sums = printed.sum(axis=1)
    enough = np.minimum(held_below, held_share * _strongest(order, sums))
    for index in range(1, len(printed)):
        if sums[index] < enough[index] and order.system[index] == order.system[index - 1]:
            printed[index] = printed[index - 1]
    return printed


def after_lead_ins(order: ReadingOrder, printed: np.ndarray, share: float) -> np.ndarray:
    """(N,) bool: the positions from each system's first that prints (registers summing to `share` of its
    system's strongest) on; all of a system that prints nothing."""
    sums = printed.sum(axis=1)
    strongest = _strongest(order, sums)
    prints = (sums >= share * strongest) & (strongest > 0)
    first = np.full(len(order), len(order))
    np.minimum.at(first, order.system_first, np.where(prints, np.arange(len(order)), len(order)))
    begins = first[order.system_first]
    return (np.arange(len(order)) >= begins) | (begins == len(order))


def last_notes(order: ReadingOrder, columns: np.ndarray, rise: float) -> np.ndarray:
    """(N,) by position, its system's last note: the last position where some register printed "here" rises by
    `rise` over the position before (a notehead comes into the reader's window); the system's first if none."""
    index = np.arange(len(order))
    rises = np.zeros(len(order), dtype=bool)
    rises[1:] = (columns[1:] - columns[:-1]).max(axis=1, initial=0.0) > rise
    rises &= index > order.system_first
    last = order.system_first.copy()
    np.maximum.at(last, order.system_first, np.where(rises, index, -1))
    return last[order.system_first]


class RegisterEvidence:
    """Likelihood of each position given the registers heard, from what each position prints (N, registers); with
    heard_full, the sharpness scaled down where the heard registers' norm is below it. The printed registers'
    directions are found once, not every frame."""

    def __init__(self, printed: np.ndarray, sharpness: float, heard_full: float = 0.0):
        self.directions, self.sharpness, self.heard_full = _unit(printed), sharpness, heard_full

    def __call__(self, heard: np.ndarray) -> np.ndarray:
        """(N,) likelihood, 1 at the best match, from the registers heard (registers,)."""
        similarity = self.directions @ _unit(heard)
        sharpness = self.sharpness
        if self.heard_full:
            sharpness = sharpness * min(1.0, float(np.linalg.norm(heard)) / self.heard_full)
        return np.exp(sharpness * (similarity - similarity.max()))


def map_likelihood(order: ReadingOrder, maps: dict[int, np.ndarray], settings: EvidenceSettings) -> np.ndarray:
    """(N,) likelihood of each position from the probability maps (H, W) read this frame, by 0-based page."""
    values = np.zeros(len(order), dtype=np.float64)
    for page, probabilities in maps.items():
        for system in order.systems_on(page):
            rows = probabilities[order.top[system.start]:order.bottom[system.start]]
            values[system] = rows.max(axis=0)[order.column[system]]
    return (settings.map_floor + values) ** settings.map_power


def _strongest(order: ReadingOrder, sums: np.ndarray) -> np.ndarray:
    """(N,) by position, the largest of `sums` (N,) over its system."""
    strongest = np.zeros(len(order))
    np.maximum.at(strongest, order.system_first, sums)
    return strongest[order.system_first]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-3)
