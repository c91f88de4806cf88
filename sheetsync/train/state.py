"""The resumable state of a run: weights, optimiser, streams, random generators, LSTM states.

Written to `<run>/last/` as safetensors + JSON (nothing pickled): a new folder
is filled, then swapped in, so a kill at any moment leaves a loadable state.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from sheetsync.errors import SheetsyncError
from sheetsync.train import distributed

LAST = "last"


@dataclass
class LoopState:
    step: int = 0
    epoch: int = 0
    lr: float = 1e-4
    best_loss: float = math.inf
    bad_epochs: int = 0
    best_metrics: dict = field(default_factory=dict)


def save(out: Path, model, optimiser, streams, loop: LoopState, generator: torch.Generator, lstm, context) -> None:
    """Save everything needed to continue exactly here (rank 0 writes every rank's share)."""
    share = {"streams": streams.state_dict(), "generator": generator.get_state().tolist(),
             "lstm": [s.tolist() for s in lstm] if lstm is not None else None}
    shares = distributed.gather(share, context)
    if not context.main:
        return
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optimiser_state = optimiser.state_dict()
    for index, values in optimiser_state["state"].items():
        for key, value in values.items():
            tensors[f"optimiser.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    record = {"loop": asdict(loop), "param_groups": optimiser_state["param_groups"], "ranks": shares}
    staging = out / f".{LAST}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    from safetensors.torch import save_file

    save_file(tensors, str(staging / "state.safetensors"))
    (staging / "state.json").write_text(json.dumps(record))
    final, old = out / LAST, out / f".{LAST}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def load(out: Path, model, optimiser, streams, loop: LoopState, generator: torch.Generator, rank: int):
    """Restore a saved state in place; returns this rank's LSTM state (or None)."""
    from safetensors.torch import load_file

    folder = out / LAST
    if not (folder / "state.json").exists():
        folder = out / f".{LAST}.old"  # killed while swapping in a new state
    if not (folder / "state.json").exists():
        raise SheetsyncError(f"no saved training state in '{out}' to resume from")
    record = json.loads((folder / "state.json").read_text())
    tensors = load_file(str(folder / "state.safetensors"))
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optimiser."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimiser.load_state_dict({"state": state, "param_groups": record["param_groups"]})
    for key, value in record["loop"].items():
        setattr(loop, key, value)
    ranks = record["ranks"]
    if rank >= len(ranks):
        raise SheetsyncError(f"the saved state has {len(ranks)} processes; resume with the same number")
    share = ranks[rank]
    streams.load_state_dict(share["streams"])
    generator.set_state(torch.tensor(share["generator"], dtype=torch.uint8))
    return tuple(torch.tensor(s) for s in share["lstm"]) if share["lstm"] is not None else None
