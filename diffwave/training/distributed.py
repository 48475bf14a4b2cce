"""torch.distributed for training under ``torchrun``: join the process group, know the rank, agree on a stop."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_distributed(device: torch.device) -> tuple[torch.device, int]:
    """Under torchrun (WORLD_SIZE > 1) join the process group; one GPU per local rank.
    Returns the device this process trains on and its rank (0 without torchrun)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device, 0
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device, dist.get_rank()


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def agree(flag: bool, world: int, device: torch.device) -> bool:
    """Rank 0's stop decision, shared with every rank so that all stop after the same step."""
    if world == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def finish_distributed() -> None:
    """Leave the process group together: every rank waits for the others (rank 0 may still be
    saving), then the group's threads are stopped before the interpreter exits. A rank that
    exits with them running dies in std::terminate (SIGABRT), which failed a DDP run now and then."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
