"""Model configuration: the paper's "CB" system by default, its ablations by name, tiny sizes for tests."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields

from sheetsync.model.reader import FEATURES, PITCH_BINS

VARIANTS = ("CB", "FB", "NTC", "PH")
# The "PH" encoder's lag windows: (first, last) frames back from the current one (0) over which it pools the
# registers it hears at each frame; with the note reader's column windows in mind (sheetsync.model.reader), the
# first is what sounds now and the others, roughly, one, two and three notes before.
HISTORY = ((0, 0), (1, 4), (5, 10), (11, 18), (19, 27), (28, 37))
HISTORY_COLUMNS = (0, 1, 1, 2, 3, 3)  # the note reader's column window (reader.WINDOWS) each one corresponds to
UPSAMPLING = ("bilinear", "nearest")
CONDITIONING = ("film", "match")
PAGE_PATHS = ("unet", "notes")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; stored in every checkpoint.

    variant: "CB" (conv encoder over the last `context` frames, then the LSTM),
        "FB" (the current frame only, linear encoder, LSTM), "NTC" (conv
        encoder, the LSTM replaced by linear + ELU: no temporal context) or
        "PH" (pitch history, ours: a small network says which registers
        sound at every frame of the window, pooled over the HISTORY lag
        windows; that history feeds the LSTM and is also part of z, so a
        query can ask the page for it directly).
    unet_channels: block widths from block A down to the bottleneck (the
        decoder mirrors them); one 2x2 pooling between consecutive widths.
    audio_channels: widths of the conv encoder's stages (one pooling each).
    n_bins: spectrogram bins per frame (the paper's 78).
    context: spectrogram frames the conv encoder sees (the paper's 40, 2 s).
    embedding: size of the encoder's output, the LSTM's input.
    hidden: LSTM size, and so the size of z that drives every FiLM layer.
    upsample: the decoder's x2 interpolation before its 1x1 conv ("bilinear";
        the authors' published code used nearest).
    page_height: pixels of a page's height as the network reads it (the
        paper's 400, about 34 dpi on A4: a staff space is about two pixels;
        200 costs a quarter but blurs staff lines together). Targets scale
        with it: the band stays as wide on paper.
    output_prior: the probability every pixel starts at (the output layer's
        initial bias is its logit); 0 keeps the paper's zero bias (0.5). A
        small prior near the target's share of the page spares Dice training
        its long first phase of pushing the whole page down.
    conditioning: how the audio steers the page. "film" (the paper's): z
        modulates blocks B-H, so the whole U-Net after block A runs for
        every frame. "match": the U-Net is not conditioned; it turns each
        page once into `match_dim` features per pixel, and every frame
        only takes their dot product with a query drawn from z (plus a
        bias) -- a per-frame cost of one product over the page.
    match_dim: features per pixel of the "match" conditioning.
    match_levels: how many decoder levels, from the full-resolution one
        down, feed those features (1: the last block alone, whose
        `unet_channels[0]` channels, 8 in the paper's U-Net, cap the rank of
        the features below `match_dim`; 3 adds the 16 and 32 channels of the
        next two levels).
    shortcut: the last `shortcut` frames of the window also reach the
        embedding through one linear map, beside the conv stages (0: the
        paper's encoder). The paper's conv stack alone takes many hundred
        steps to pass any pitch information on (it predicts no better than
        the base rate which pitch classes sound for 600 steps, where a
        linear map of the last 3 frames learns them in 100:
        benchmarks/encoder_check.py); the shortcut makes it learn at once.
    page_path: what reads the page. "unet" (the paper's); "notes": the note
        reader of sheetsync.model.reader (a small network that reads
        noteheads and their registers, then a fixed layout of what each
        column prints); it needs "match" conditioning, and its features fix
        `match_dim` at sheetsync.model.reader.FEATURES.
    reader_width: channels of the note reader's convolutions.
    reader_rows: the note reader also sees, at every pixel, the strongest
        features anywhere along its row of the page: the clef at the start
        of a staff, which says what pitch a notehead's line stands for (a
        note reader that sees only a system's height around a notehead reads
        a single staff in the bass clef as treble).
    pitch_head: a linear map from z to the registers sounding (for pitch
        supervision of the audio path alone, when the query's own dimensions
        should stay free: the note reader's fixed features).
    """

    variant: str = "CB"
    unet_channels: tuple[int, ...] = (8, 16, 32, 64, 128)
    audio_channels: tuple[int, ...] = (24, 48, 96, 96)
    n_bins: int = 78
    context: int = 40
    embedding: int = 32
    hidden: int = 128
    upsample: str = "bilinear"
    page_height: int = 400
    output_prior: float = 0.0
    conditioning: str = "film"
    match_dim: int = 16
    shortcut: int = 0
    match_levels: int = 1
    page_path: str = "unet"
    reader_width: int = 32
    reader_rows: bool = False
    pitch_head: bool = False

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown model variant '{self.variant}' (known: {', '.join(VARIANTS)})")
        if self.conditioning not in CONDITIONING:
            raise ValueError(f"unknown conditioning '{self.conditioning}' (known: {', '.join(CONDITIONING)})")
        if self.page_path not in PAGE_PATHS:
            raise ValueError(f"unknown page path '{self.page_path}' (known: {', '.join(PAGE_PATHS)})")
        if self.page_path == "notes":
            if not self.matched or self.match_dim != FEATURES:
                raise ValueError(f'the "notes" page path needs "match" conditioning with match_dim {FEATURES}')
        if not 0 <= self.shortcut <= self.context:
            raise ValueError(f"shortcut must be between 0 and the context ({self.context}), not {self.shortcut}")
        if self.match_dim < 1:
            raise ValueError(f"match_dim must be positive, not {self.match_dim}")
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"unknown upsampling '{self.upsample}' (known: {', '.join(UPSAMPLING)})")
        if len(self.unet_channels) < 2 or min(self.unet_channels) < 1:
            raise ValueError(f"unet_channels needs two or more positive widths, not {self.unet_channels}")
        if not 1 <= self.match_levels < len(self.unet_channels):
            raise ValueError(f"match_levels must be between 1 and {len(self.unet_channels) - 1}, "
                             f"not {self.match_levels}")
        if self.page_height < self.page_multiple:
            raise ValueError(f"page_height {self.page_height} is below the U-Net's page multiple {self.page_multiple}")
        if not 0.0 <= self.output_prior < 1.0:
            raise ValueError(f"output_prior must be in [0, 1), not {self.output_prior}")
        if not self.audio_channels or min(self.audio_channels) < 1:
            raise ValueError(f"audio_channels needs positive widths, not {self.audio_channels}")
        if min(self.n_bins, self.context, self.embedding, self.hidden) < 1:
            raise ValueError("n_bins, context, embedding and hidden must be positive")
        if self.variant == "PH" and self.context <= HISTORY[-1][1] + 2:
            raise ValueError(f"the PH encoder needs a context of at least {HISTORY[-1][1] + 3} frames, "
                             f"not {self.context}")
        if self.variant == "PH" and self.pitch_head:
            raise ValueError("the PH encoder says the registers itself: it takes no pitch head")
        if self.variant != "FB" and min(self.n_bins, self.context) >> len(self.audio_channels) < 1:
            raise ValueError(f"a {self.n_bins}x{self.context} window cannot be pooled "
                             f"{len(self.audio_channels)} times")

    @property
    def frames_in(self) -> int:
        """Spectrogram frames the audio encoder reads per step (the window's last axis)."""
        return 1 if self.variant == "FB" else self.context

    @property
    def z_size(self) -> int:
        """Size of z, what the audio path hands the page: the LSTM's output, and with "PH" the pitch history."""
        return self.hidden + (PITCH_BINS * len(HISTORY) if self.variant == "PH" else 0)

    @property
    def recurrent(self) -> bool:
        """Whether the audio path carries an LSTM state from step to step."""
        return self.variant != "NTC"

    @property
    def matched(self) -> bool:
        """Whether the page is read once per page and matched with the audio per frame ("match")."""
        return self.conditioning == "match"

    @property
    def page_multiple(self) -> int:
        """Pages are padded to a multiple of this (one halving per encoder level)."""
        return 2 ** (len(self.unet_channels) - 1)

    def replace(self, **changes) -> "ModelConfig":
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-ready values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """The inverse of `to_dict`; missing settings take their defaults, unknown ones are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


PAPER = ModelConfig()
# What `sheetsync train` builds by default: the paper's page size and U-Net, matched with the audio per pixel
# (follows in ~6 ms a frame on two cores, where FiLM takes ~42 ms at this size), and the audio shortcut. Half the
# paper's page height was tried and is too coarse to read pitch: a staff space shrinks to about one pixel.
# (The shipped checkpoint is an early FiLM run at 200 px; its model.json says so.)
DEFAULT = PAPER.replace(conditioning="match", shortcut=3, match_levels=3, match_dim=32)
NOTES = DEFAULT.replace(page_path="notes", match_dim=FEATURES, reader_rows=True)
TINY = ModelConfig(unet_channels=(4, 4, 8, 8, 8), audio_channels=(4, 4, 8, 8), embedding=8, hidden=16,
                   reader_width=4)
