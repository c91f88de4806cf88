"""One code path for one process or many under torchrun (DistributedDataParallel)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world: int = 1
    device: torch.device | None = None

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup() -> Context:
    """Join the process group torchrun describes in the environment (gloo on CPU, nccl on GPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context()
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    device = None
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    return Context(dist.get_rank(), world, device)


def teardown(context: Context) -> None:
    if context.active:
        import torch.distributed as dist

        dist.destroy_process_group()


def wrap(model: torch.nn.Module, context: Context) -> torch.nn.Module:
    if not context.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [context.device.index] if context.device is not None and context.device.type == "cuda" else None
    # A note reader's weights sit out the steps that match with its frozen features.
    unused = getattr(model, "reader", None) is not None
    return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=unused)


def average_gradients(module: torch.nn.Module, context: Context) -> None:
    """Average `module`'s gradients over the processes (for steps that run it outside DistributedDataParallel)."""
    if not context.active:
        return
    import torch.distributed as dist

    for parameter in module.parameters():
        if parameter.grad is not None:
            dist.all_reduce(parameter.grad)
            parameter.grad /= context.world


def mean(value: float, context: Context) -> float:
    if not context.active:
        return value
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor)
    return float(tensor) / context.world


def broadcast(value, context: Context):
    """Rank 0's value, everywhere."""
    if not context.active:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather(value, context: Context) -> list:
    """Every rank's value, in rank order, everywhere."""
    if not context.active:
        return [value]
    import torch.distributed as dist

    values = [None] * context.world
    dist.all_gather_object(values, value)
    return values


def barrier(context: Context) -> None:
    if context.active:
        import torch.distributed as dist

        dist.barrier()
