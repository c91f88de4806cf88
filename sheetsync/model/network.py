"""The score follower's network: the page U-Net conditioned on the audio path.

Two ways to run it:

- training, whole sequences: `model(pages, windows, state)` -> logits
  (B, T, 1, H, W) and the final LSTM state. The audio encoder runs on all
  B*T windows at once, the LSTM over T, and block A once per page.
- following, one frame at a time: `prepare_page` once per page (block A),
  then per frame `step` (audio -> z, carrying the state) and `predict` for
  each candidate page with the same z.

With "match" conditioning (see ModelConfig) the whole U-Net runs once per
page and yields page features; per frame, z only draws a query whose dot
product with them is the map. `prepare_page` then caches those features and
`predict` costs one product over the page.

Pages are (.., 1, H, W) grey with ink = 1 (see sheetsync.score.images); any
size works: they are padded with blank paper to a multiple of
`config.page_multiple` and the output is cropped back. A window holds the
last `config.frames_in` spectrogram frames up to the current one, zeros
(silence) before the start of the audio.

Following:

    model, record = checkpoint.load(path)
    model.use_channels_last()                      # faster on CPU
    caches = [model.prepare_page(page) for page in pages]
    state = None
    for window in windows:                         # 20 per second
        z, state = model.step(window, state)
        maps = [model.predict(caches[i], z) for i in candidate_pages]

Training with truncated back-propagation over parallel streams:

    state = None
    for chunk in chunks:
        state = reset_state(state, chunk_starts_a_new_piece)   # (B,) bool
        logits, state = model(pages, windows, state)
        loss = binary_cross_entropy_with_logits(logits, targets)
        ...
        state = detach_state(state)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sheetsync.model.conditioning import AudioConditioner, State
from sheetsync.model.config import HISTORY_COLUMNS, PAPER, ModelConfig
from sheetsync.model.reader import PITCH_BINS, READER_GAIN, NoteReader, column_features
from sheetsync.model.unet import ConditionedUNet


@dataclass(frozen=True)
class MatchParts:
    """What a "match" forward pass matched: the page path's outputs (S, C, H, W) for the pages some step showed
    (see `read_page`; None when the features were given), `pages` (S,): their rows in the page stack, and
    every step's registers' logits (B, T, PITCH_BINS) as `pitch_logits` says them."""

    features: torch.Tensor | None
    pages: torch.Tensor
    pitches: torch.Tensor


@dataclass(frozen=True)
class PageCache:
    """A page's audio-independent work on the padded page (block A's output (1, C, H', W'), or with "match"
    conditioning the page features (1, match_dim, H', W')), and the page's own size."""

    features: torch.Tensor
    height: int
    width: int


class ScoreFollower(nn.Module):
    """Audio-conditioned U-Net (Henkel, Kelz & Widmer, ISMIR 2020)."""

    def __init__(self, config: ModelConfig = PAPER):
        super().__init__()
        self.config = config
        self.audio = AudioConditioner(config)
        notes = config.page_path == "notes"
        self.unet = None if notes else ConditionedUNet(config)
        self.reader = NoteReader(config.reader_width, config.reader_rows) if notes else None
        self.query = nn.Linear(config.z_size, config.match_dim + 1) if config.matched else None
        self.pitch = nn.Linear(config.z_size, PITCH_BINS) if config.pitch_head else None
        self.channels_last = False
        initialise(self)
        if config.variant == "PH":
            self.audio.encoder.start_at_prior()
        if self.reader is not None:
            with torch.no_grad():
                self.query.weight /= READER_GAIN
            if config.variant == "PH":
                ask_for_history(self.query, config.hidden)
        if config.output_prior > 0:
            prior = math.log(config.output_prior / (1 - config.output_prior))
            with torch.no_grad():
                if self.reader is not None:
                    prior /= READER_GAIN
                (self.query.bias[-1:] if config.matched else self.unet.out.bias).fill_(prior)

    def set_normalisation(self, mean, std) -> None:
        """Per-bin mean and std (n_bins,) of the training spectrograms; stored with the weights."""
        self.audio.set_normalisation(mean, std)

    def use_channels_last(self, enabled: bool = True) -> "ScoreFollower":
        """Run the U-Net in channels-last memory layout (faster on CPU); returns the model."""
        (self.unet or self.reader).to(memory_format=torch.channels_last if enabled else torch.contiguous_format)
        self.channels_last = enabled
        return self

    def forward(self, pages: torch.Tensor, windows: torch.Tensor, state: State = None,
                page_index: torch.Tensor | None = None,
                steps: torch.Tensor | None = None, parts: bool = False,
                page_features: torch.Tensor | None = None):
        """Logits (B, T, 1, H, W) for B sequences of T steps, and the LSTM state after the last step
        (and with `parts`, "match" conditioning only, the MatchParts behind the logits).

        windows: (B, T, bins, frames_in) spectrogram windows ((B, T, bins) for FB).
        state: the state returned for the previous chunk (detach it first for
            truncated back-propagation), or None to start afresh.
        steps: (B, K) indices of the steps to run the U-Net for (the LSTM
            still runs over all T); the logits are then (B, K, 1, H, W).
        pages, one of:
            (B, 1, H, W): the page of each sequence; block A runs once per page.
            (N, 1, H, W) with page_index (B, T): a stack of pages to pick from
                at every step (sequences that cross a page turn); block A runs
                once per page of the stack.
            (B, K, 1, H, W): a page for every step the U-Net runs (K = T, or
                the K of `steps`), e.g. pages augmented frame by frame.

        page_features: with "match" conditioning, the features `read_page` gave
            for each of the N `pages` (a sequence of (match_dim, H', W'), each
            page's own size), to skip reading them again (a frozen page path);
            `parts` then has no page outputs (None).

        Memory grows with B*T (or B*K) page-sized maps: chunk long performances.
        """
        if parts and not self.config.matched:
            raise ValueError('parts exist only with "match" conditioning')
        z, state = self.audio(windows, state)
        every_z = z
        batch, length = z.shape[:2]
        if steps is not None:
            z = z.gather(1, steps[..., None].expand(-1, -1, z.shape[-1]))
        height, width = pages.shape[-2:]
        if pages.dim() == 5:
            if pages.shape[:3] != (*z.shape[:2], 1) or page_index is not None:
                raise ValueError(f"pages per step must be (B, K, 1, H, W) with (B, K) = {tuple(z.shape[:2])} "
                                 f"and no page_index, got {tuple(pages.shape)}")
            pages = pages.flatten(0, 1)
            index = torch.arange(pages.shape[0], device=z.device).view(z.shape[:2])
        else:
            index = self._page_index(pages, page_index, batch, length, z.device)
            if steps is not None:
                index = index.gather(1, steps)
        z, shape = z.flatten(0, 1), index.shape
        if self.config.matched:
            shown, index = index.flatten().unique(return_inverse=True)  # read only the pages some step shows
            if page_features is None:
                features, outputs = self.read_page(pages[shown])
            else:
                features, outputs = [page_features[i] for i in shown.tolist()], None
            logits = self._match(features, index, z, (height, width))
        else:
            logits = self.unet.rest(self._block_a(pages)[index.flatten()], z)
        logits = logits[..., :height, :width].unflatten(0, shape)
        if parts:
            outputs = None if outputs is None else outputs[..., :height, :width]
            return logits, state, MatchParts(outputs, shown, self.pitch_logits(windows, every_z))
        return logits, state

    @staticmethod
    def _page_index(pages: torch.Tensor, page_index: torch.Tensor | None, batch: int, length: int,
                    device: torch.device) -> torch.Tensor:
        """(B, T): which of the (N, 1, H, W) pages every step shows."""
        if pages.dim() != 4 or pages.shape[1] != 1:
            raise ValueError(f"expected pages (N, 1, H, W) or (B, K, 1, H, W), got {tuple(pages.shape)}")
        if page_index is None:
            if pages.shape[0] != batch:
                raise ValueError(f"{pages.shape[0]} pages for {batch} sequences: pass page_index")
            return torch.arange(batch, device=device)[:, None].expand(batch, length)
        if page_index.shape != (batch, length):
            raise ValueError(f"page_index must be (B, T) = {(batch, length)}, got {tuple(page_index.shape)}")
        return page_index

    def pitch_logits(self, windows: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """(B, T, PITCH_BINS) logits of the registers the audio path says sound at each step: the PH encoder's
        own, else the pitch head's, else the query's first PITCH_BINS dimensions."""
        if self.config.variant == "PH":
            return self.audio.pitch_logits(windows)
        return self.pitch(z) if self.pitch is not None else self.query(z)[..., :PITCH_BINS]

    @torch.no_grad()
    def prepare_page(self, page) -> PageCache:
        """The audio-independent work for one (H, W), (1, H, W) or (1, 1, H, W) page."""
        page = torch.as_tensor(page, dtype=torch.float32, device=self._device())
        page = page.reshape(1, 1, *page.shape[-2:])
        features = self.read_page(page)[0] if self.config.matched else self._block_a(page)
        return PageCache(features, page.shape[-2], page.shape[-1])

    @torch.no_grad()
    def step(self, window, state: State = None) -> tuple[torch.Tensor, State]:
        """One frame of audio: a (bins, frames_in) window ((bins,) for FB) -> z (1, z_size) and the new state.

        Start a performance with state None; z can be shared by every candidate page.
        """
        window = torch.as_tensor(window, dtype=torch.float32, device=self._device())
        z, state = self.audio(window.reshape(1, 1, self.config.n_bins, self.config.frames_in), state)
        return z[:, -1], state

    @property
    def reads_registers(self) -> bool:
        """Whether the model both reads registers on the page (the note reader) and hears them (PH): what
        sheetsync.tracking.evidence matches directly."""
        return self.reader is not None and self.config.variant == "PH"

    @torch.no_grad()
    def heard_registers(self, window) -> torch.Tensor:
        """(PITCH_BINS,) probability of each register sounding at a (bins, frames_in) window's last frame."""
        window = torch.as_tensor(window, dtype=torch.float32, device=self._device())
        return torch.sigmoid(self.audio.pitch_logits(window.reshape(1, 1, *window.shape[-2:]))[0, 0])

    @staticmethod
    def printed_registers(cache: PageCache) -> torch.Tensor:
        """(PITCH_BINS, H, W) the registers the note reader says each pixel's column prints "here" (see
        sheetsync.model.reader)."""
        return cache.features[0, :PITCH_BINS, :cache.height, :cache.width]

    @torch.no_grad()
    def predict(self, cache: PageCache, z: torch.Tensor) -> torch.Tensor:
        """Probability map (H, W) of where the music is on the cached page, given z (1, z_size)."""
        z = z.reshape(1, -1)
        if self.config.matched:
            logits = self._match(cache.features, torch.zeros(1, dtype=torch.long, device=z.device), z)
        else:
            logits = self.unet.rest(cache.features, z)
        return torch.sigmoid(logits[0, 0, :cache.height, :cache.width])

    def pad(self, pages: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) pages padded at the bottom and right with blank paper to a size the U-Net can halve."""
        multiple = self.config.page_multiple
        height, width = pages.shape[-2:]
        return F.pad(pages, (0, -width % multiple, 0, -height % multiple))

    def read_page(self, pages: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """"match" conditioning: the features (N, match_dim, H', W') of (N, 1, H, W) pages (padded, see `pad`),
        and the page path's own outputs they come from (the same features for the U-Net; the note reader's
        logits, see sheetsync.model.reader)."""
        if self.reader is None:
            features = self.unet.rest(self._block_a(pages), None)
            return features, features
        outputs = self.reader(self._padded(pages))
        return column_features(outputs.float(), self.config.page_height), outputs

    def _block_a(self, pages: torch.Tensor) -> torch.Tensor:
        return self.unet.first(self._padded(pages))

    def _padded(self, pages: torch.Tensor) -> torch.Tensor:
        """`pad`, in the page path's memory layout."""
        padded = self.pad(pages)
        return padded.contiguous(memory_format=torch.channels_last) if self.channels_last else padded

    def _match(self, features, index: torch.Tensor, z: torch.Tensor, size=None) -> torch.Tensor:
        """Logits (N, 1, H, W) of N steps (z (N, z_size)) on pages features[index] (index (N,); features
        (S, match_dim, H, W), or S such tensors of differing sizes, each step's map then cut or padded with
        certain "no music" to `size`): each page's features dotted with its steps' queries, plus their bias; one
        product per page rather than a copy of its features per step."""
        query = self.query(z)
        dim = self.config.match_dim
        # The U-Net's features are dense and learn their own scale, so a sum over them is scaled down by their
        # number. The note reader's are fixed, sparse and in [0, 1]: a map sure of its place needs logits of
        # several units, which a query of order one reaches only if the whole match is scaled up.
        scale, bias = (READER_GAIN, 1.0) if self.reader is not None else (1 / math.sqrt(dim), math.sqrt(dim))
        size = size or features[0].shape[-2:]
        rows, maps = [], []
        for page in range(len(features)):
            steps = (index == page).nonzero().squeeze(1)
            height, width = features[page].shape[-2:]
            product = (query[steps, :dim] @ features[page].flatten(-2) + query[steps, dim:] * bias) * scale
            product = product.view(len(steps), 1, height, width)[..., :size[0], :size[1]]
            if product.shape[-2:] != tuple(size):
                product = F.pad(product, (0, size[1] - product.shape[-1], 0, size[0] - product.shape[-2]),
                                value=-20.0)
            rows.append(steps)
            maps.append(product)
        return torch.cat(maps)[torch.argsort(torch.cat(rows))]

    def _device(self) -> torch.device:
        return self.audio.mean.device


HISTORY_GAIN = 2.0  # the logit one register heard in the history adds where it is printed...
HISTORY_COST = 0.25  # ...and what one printed register costs (times HISTORY_GAIN): gaps do not win by default
HISTORY_OFFSET = -4.0  # every pixel's logit besides: a few registers must match before the map says "here"


def ask_for_history(query: nn.Linear, hidden: int) -> None:
    """Start a note-reader model's query from what a PH history says: each register heard in a lag window asks
    for it printed in the matching column window (a logit of HISTORY_GAIN where it is, less HISTORY_COST of that
    for each register printed, and HISTORY_OFFSET everywhere). Training then only refines a match that already
    works, rather than finding it."""
    weight, bias = torch.zeros_like(query.weight[:, hidden:]), torch.zeros_like(query.bias)
    registers = torch.arange(PITCH_BINS)
    for lag, column in enumerate(HISTORY_COLUMNS):
        share = HISTORY_COLUMNS.count(column)
        weight[column * PITCH_BINS + registers, lag * PITCH_BINS + registers] = HISTORY_GAIN / share
        bias[column * PITCH_BINS + registers] = -HISTORY_GAIN * HISTORY_COST
    bias[-1] = HISTORY_OFFSET
    with torch.no_grad():
        query.weight[:, hidden:] = weight / READER_GAIN
        query.bias.copy_(bias / READER_GAIN)


def initialise(model: nn.Module) -> None:
    """The paper's initialisation: orthogonal weights, zero biases (normalisation layers keep 1 and 0)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LSTM):
            for name, parameter in module.named_parameters():
                (nn.init.orthogonal_ if name.startswith("weight") else nn.init.zeros_)(parameter)
