"""Model configuration: the paper's "CB" system by default, the ablations by name, tiny sizes for tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

VARIANTS = ("CB", "FB", "NTC")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; stored in every checkpoint.

    variant: "CB" (conv encoder over the last `context` frames, LSTM), "FB" (one
    frame, linear encoder, LSTM) or "NTC" (conv encoder, no LSTM: no temporal context).
    """

    variant: str = "CB"
    unet_channels: tuple[int, ...] = (8, 16, 32, 64, 128)
    audio_channels: tuple[int, ...] = (24, 48, 96, 96)
    n_bins: int = 78
    context: int = 40
    embedding: int = 32
    hidden: int = 128

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown model variant '{self.variant}' (known: {', '.join(VARIANTS)})")

    @property
    def frames_in(self) -> int:
        """Spectrogram frames the audio encoder reads per step."""
        return 1 if self.variant == "FB" else self.context

    @property
    def recurrent(self) -> bool:
        return self.variant != "NTC"

    @property
    def page_multiple(self) -> int:
        """Page sizes are padded to a multiple of this (one halving per encoder level)."""
        return 2 ** (len(self.unet_channels) - 1)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


TINY = ModelConfig(unet_channels=(4, 4, 8, 8, 8), audio_channels=(4, 4, 8, 8), embedding=8, hidden=16)
