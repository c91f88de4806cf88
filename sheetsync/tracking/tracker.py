"""The follower: one model step per audio frame, the LSTM state carried, pages decided from the evidence.

Each page's audio-independent work (its tensor and the U-Net's block A) is
done once, when the score is loaded. Per frame the audio path yields z; the
current page is always read, the next page too once the performer reaches
the page's last system (or when the current page loses confidence), and the
previous page when confidence is low (a repeat back across a page turn). The
page changes when another page reads clearly better for a few frames running.
Every map is weighed by its nearness to the last position (see continuity); the
model can still jump anywhere, so repeats and restarts recover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sheetsync.audio.features import FPS, N_BINS, StreamingSpectrogram
from sheetsync.events import Position
from sheetsync.score.images import model_scale, to_model_page
from sheetsync.score.layout import detect_layout
from sheetsync.score.load import Score
from sheetsync.tracking.continuity import Continuity, ContinuitySettings, progress_map
from sheetsync.tracking.position import MapReading, ScoreMap, read_map
from sheetsync.tracking.tempo import TempoEstimator


@dataclass(frozen=True)
class TrackerSettings:
    low_confidence: float = 0.3  # below this peak probability, look at neighbouring pages too
    switch_margin: float = 0.1  # another page must read this much more confident...
    switch_frames: int = 3  # ...for this many frames running
    continuity: ContinuitySettings = ContinuitySettings()


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
        self.continuity = Continuity([progress_map(layout, self.score_map.first_system(number),
                                                   (cache.height, cache.width), scale)
                                      for number, (layout, cache, scale)
                                      in enumerate(zip(self.score_map.layouts, self.caches, self.scales))],
                                     settings.continuity)
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
        self.continuity.reset(self.score_map.first_system(page))

    def go_to_page(self, page: int) -> None:
        """Force the current page (0-based), keeping what was heard; the music is expected from its top."""
        self.page = int(np.clip(page, 0, len(self.caches) - 1))
        self._challenger = None
        self.tempo.reset()
        self.continuity.reset(self.score_map.first_system(self.page))

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
        window = torch.from_numpy(self.window).to(self.device)
        z, self.state = self.model.step(window, self.state)
        self.maps: dict[int, np.ndarray] = {}  # this frame's probability maps (model pixels), by 0-based page
        self.free: dict[int, MapReading] = {}  # what each map says without the continuity gate...
        self.raw: dict[int, np.ndarray] = {}  # ...and the map itself
        readings = {page: self._read(page, z) for page in self._candidates()}
        self._decide_page(readings)
        surest = max(self.free, key=lambda page: self.free[page].confidence)
        if self.continuity.update(self.frame / FPS, readings[self.page].confidence,
                                  self._systems_at(self.page, readings[self.page]),
                                  self.free[surest].confidence, self._systems_at(surest, self.free[surest])):
            self.page, self._challenger = surest, None  # a jump: the gated maps of this frame still say "here"
            readings[surest] = self.free[surest]
            self.maps[surest] = self.raw[surest]
        reading = readings[self.page]
        self.confidence = reading.confidence
        position = self._position(reading)
        self.frame += 1
        return position

    def _read(self, page: int, z: torch.Tensor) -> MapReading:
        probabilities = self.model.predict(self.caches[page], z).float().cpu().numpy()
        self.raw[page], self.free[page] = probabilities, read_map(probabilities)
        gate = self.continuity.gate(page)
        self.maps[page] = probabilities if gate is None else probabilities * gate
        return read_map(self.maps[page])

    def _systems_at(self, page: int, reading: MapReading) -> float | None:
        """Where a reading's centre is in reading order, in systems (None: on no system)."""
        if reading.mass <= 0:
            return None
        x, y = reading.x / self.scales[page], reading.y / self.scales[page]
        where = self.score_map.locate(page, x, y)
        return where.progress * self.score_map.total_systems if where.system else None

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
