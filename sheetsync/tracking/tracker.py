"""The follower: one step per audio frame, positions kept in reading order, pages following from them.

Each page's audio-independent work (its tensor and the U-Net's block A, or
the note reader's features) is done once, when the score is loaded. Per
frame the model supplies evidence of where the music is (see evidence) and
the alignment weighs it against where the music was (see alignment): the
position, and so the page, is the alignment's likeliest place, and the
follower's probability map its belief. With the alignment off, each frame's
map is read on its own, the paper's way: the current page is always read,
the next one too once the performer reaches the page's last system (or when
the current page loses confidence), the previous one when confidence is low
(a repeat back across a page turn), and the page changes when another reads
clearly better for a few frames running.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sheetsync.audio.features import FPS, N_BINS, StreamingSpectrogram
from sheetsync.data.targets import band_width
from sheetsync.events import Position
from sheetsync.score.images import model_scale, to_model_page
from sheetsync.score.layout import detect_layout
from sheetsync.score.load import Score
from sheetsync.tracking.alignment import Alignment, AlignmentSettings, ReadingOrder
from sheetsync.tracking.evidence import (EvidenceSettings, RegisterEvidence, after_lead_ins, column_registers, held_on,
                                         last_notes, map_likelihood)
from sheetsync.tracking.position import MapReading, ScoreMap, read_map
from sheetsync.tracking.tempo import TempoEstimator


@dataclass(frozen=True)
class TrackerSettings:
    low_confidence: float = 0.3  # below this peak probability, look at neighbouring pages too
    switch_margin: float = 0.1  # without the alignment: another page must read this much more confident...
    switch_frames: int = 3  # ...for this many frames running
    alignment: AlignmentSettings = AlignmentSettings()
    evidence: EvidenceSettings = EvidenceSettings()


class Tracker:
    """Follows one performance of one score, frame by frame."""

    def __init__(self, model, score: Score, settings: TrackerSettings = TrackerSettings(), device: str = "cpu"):
        self.model, self.score, self.settings, self.device = model, score, settings, torch.device(device)
        if self.device.type == "cpu":
            model.use_channels_last()  # about 30% faster convolutions on a CPU
        height = model.config.page_height
        self.scales = [model_scale(page.shape[0], height) for page in score.pages]
        self.caches = [model.prepare_page(torch.from_numpy(to_model_page(page, height)).to(self.device))
                       for page in score.pages]
        self.score_map = ScoreMap(tuple(detect_layout(page) for page in score.pages))
        self.order = ReadingOrder(list(self.score_map.layouts), self.scales,
                                  [(cache.height, cache.width) for cache in self.caches])
        aligned = settings.alignment.enabled and len(self.order)  # (a score without systems has nothing to align to)
        self.registers = None  # where the model matches registers itself: each position's evidence from them
        last = None  # by position, its system's last note, where the model reads notes
        if aligned and model.reads_registers:
            evidence = settings.evidence
            columns = column_registers(self.order, [model.printed_registers(cache).float().cpu().numpy()
                                                    for cache in self.caches])
            printed = held_on(self.order, columns, evidence.held_below, evidence.held_share)
            if evidence.skip_lead_ins:
                kept = after_lead_ins(self.order, printed, evidence.held_share)
                self.order, printed, columns = self.order.subset(kept), printed[kept], columns[kept]
            if evidence.hold_last_notes:
                last = last_notes(self.order, columns, evidence.note_rise)
            self.registers = RegisterEvidence(printed, evidence.sharpness, evidence.heard_full)
        self.alignment = Alignment(self.order, settings.alignment, last) if aligned else None
        self.band_columns = round(band_width(height))
        self.context = model.config.frames_in
        self.reset()

    def reset(self, page: int = 0) -> None:
        """Forget everything heard; start listening again on `page` (0-based)."""
        self.features = StreamingSpectrogram()
        self.window = np.zeros((N_BINS, self.context), dtype=np.float32)
        self.state = None
        self.page = page
        self.frame = 0
        self.confidence = 1.0
        self.system_index = 0
        self.tempo = TempoEstimator()
        self._challenger: tuple[int, int] | None = None
        self._start_alignment()

    def go_to_page(self, page: int) -> None:
        """Force the current page (0-based), keeping what was heard; the music is expected from its top."""
        self.page = int(np.clip(page, 0, len(self.caches) - 1))
        self._challenger = None
        self.tempo.reset()
        self._start_alignment()

    def _start_alignment(self) -> None:
        if self.alignment is not None:
            self.alignment.reset(self.order.first_of_page(self.page))

    def push_audio(self, samples: np.ndarray) -> list[Position]:
        """Positions for every frame the new audio completes."""
        return [self.step(frame) for frame in self.features.push(samples)]

    def finish(self) -> list[Position]:
        """Positions for the last frames, once the audio has ended."""
        return [self.step(frame) for frame in self.features.finish()]

    def step(self, frame: np.ndarray) -> Position:
        """One spectrogram frame in, one position out."""
        self.window = np.roll(self.window, -1, axis=1)
        self.window[:, -1] = frame
        # this frame's probability maps (model pixels), by 0-based page
        reading, self.maps = self._align() if self.alignment is not None else self._read_on_its_own()
        self.confidence = reading.confidence
        position = self._position(reading)
        self.frame += 1
        return position

    def _align(self) -> tuple[MapReading, dict[int, np.ndarray]]:
        """Evidence in, the alignment's likeliest place out (the page with it); its belief as the map."""
        if self.registers is not None:
            likelihood = self.registers(self.model.heard_registers(self.window).float().cpu().numpy())
        else:
            z = self._listen()
            maps = {page: self._map(page, z) for page in self._candidates()}
            likelihood = map_likelihood(self.order, maps, self.settings.evidence)
        best = self.alignment.update(likelihood)
        order, self.page = self.order, int(self.order.page[best])
        cache = self.caches[self.page]
        belief = self.alignment.paint(self.page, (cache.height, cache.width), self.band_columns)
        reading = MapReading(float(order.column[best]), (order.top[best] + order.bottom[best] - 1) / 2,
                             float(belief[order.top[best], order.column[best]]), 1.0)
        return reading, {self.page: belief}  # the follower's map is its belief, not the network's

    def _read_on_its_own(self) -> tuple[MapReading, dict[int, np.ndarray]]:
        """The paper's way: the centre of the current page's map, the page changed by the surer map."""
        z = self._listen()
        maps = {page: self._map(page, z) for page in self._candidates()}
        readings = {page: read_map(probabilities) for page, probabilities in maps.items()}
        self._decide_page(readings)
        return readings[self.page], maps

    def _listen(self) -> torch.Tensor:
        """The model's audio path over the current window: z, its state carried."""
        z, self.state = self.model.step(torch.from_numpy(self.window).to(self.device), self.state)
        return z

    def _map(self, page: int, z: torch.Tensor) -> np.ndarray:
        return self.model.predict(self.caches[page], z).float().cpu().numpy()

    def _candidates(self) -> list[int]:
        pages = {self.page}
        last = len(self.caches) - 1
        layout = self.score_map.layouts[self.page]
        near_end = self.system_index >= len(layout.systems) - 1
        if self.page < last and (near_end or self.confidence < self.settings.low_confidence):
            pages.add(self.page + 1)
        if self.page > 0 and self.confidence < self.settings.low_confidence:
            pages.add(self.page - 1)
        return sorted(pages)

    def _decide_page(self, readings: dict[int, MapReading]) -> None:
        current = readings[self.page].confidence
        best = max(readings, key=lambda page: readings[page].confidence)
        if best == self.page or readings[best].confidence < current + self.settings.switch_margin:
            self._challenger = None
            return
        count = self._challenger[1] + 1 if self._challenger and self._challenger[0] == best else 1
        self._challenger = (best, count)
        if count >= self.settings.switch_frames:
            self.page, self._challenger = best, None

    def _position(self, reading: MapReading) -> Position:
        page_image = self.score.pages[self.page]
        scale = self.scales[self.page]
        x, y = reading.x / scale, reading.y / scale
        where = self.score_map.locate(self.page, x, y)
        self.system_index = max(where.system - 1, 0)
        time = self.frame / FPS
        return Position(time=time, frame=self.frame, page=self.page + 1,
                        x=float(np.clip(x / page_image.shape[1], 0, 1)),
                        y=float(np.clip(y / page_image.shape[0], 0, 1)),
                        system=where.system, measure=where.measure, progress=where.progress,
                        confidence=reading.confidence, tempo=self.tempo.update(time, where.measure_position),
                        measure_position=where.measure_position)
