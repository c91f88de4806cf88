"""Choosing where the network runs."""

from __future__ import annotations

import torch

from sheetsync.errors import SheetsyncError


def select_device(name: str = "auto") -> torch.device:
    """auto (CUDA when present), cpu or cuda[:N]; a clear error when CUDA is asked for but absent."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SheetsyncError("--device cuda was asked for, but CUDA is not available on this machine")
    if name != "cpu" and not name.startswith("cuda"):
        raise SheetsyncError(f"unknown device '{name}' (use auto, cpu or cuda)")
    return torch.device(name)
