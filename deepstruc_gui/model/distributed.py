"""Training on several processes with torch's own DistributedDataParallel.

``torchrun --nproc_per_node N -m deepstruc_gui train ...`` starts N copies of the
training command with ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` set; :func:`context`
reads them and joins the process group (gloo on CPU, NCCL on CUDA, as torch's
documentation recommends). Everything else is torch's: ``DistributedDataParallel``
averages gradients, ``DistributedSampler`` shards the training set. This module only
says who is who and offers the two collective operations the training loop needs
(averaging the logged losses, gathering every rank's random-number state for the
checkpoint). A plain ``deepstruc-gui train`` sees no such variables and runs as one
process exactly as before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from deepstruc_gui.science.debye import default_device


@dataclass(frozen=True)
class DistributedContext:
    """Who this process is: ``rank`` of ``world_size`` and the device it trains on."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        """True when more than one process trains (the process group is joined)."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that logs and writes checkpoints."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait until every process reaches this point (no-op for one process)."""
        if self.enabled:
            dist.barrier()

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the processes (every process gets the result)."""
        if not self.enabled or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.to(self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t = (t / self.world_size).cpu()
        return {k: float(v) for k, v in zip(keys, t, strict=True)}

    def gather(self, obj):
        """A list of every process's ``obj`` (rank order), on every process."""
        if not self.enabled:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        """Leave the process group, when one was joined."""
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def context(device: str | None = None) -> DistributedContext:
    """The context of this process, joining the process group under ``torchrun``.

    ``device``: the user's choice (``"cpu"``, ``"cuda"``); default CUDA when present.
    Under torchrun each CUDA process takes GPU ``LOCAL_RANK``.

    Raises ValueError when the launcher asks for CUDA processes on a machine with fewer
    GPUs than processes per node (NCCL cannot share one GPU between ranks).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    chosen = torch.device(device) if device else default_device()
    if world <= 1:
        return DistributedContext(device=chosen)
    want_cuda = chosen.type == "cuda"
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if want_cuda:
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"{os.environ.get('LOCAL_WORLD_SIZE', world)} CUDA processes per node but "
                f"{torch.cuda.device_count()} GPU(s): give --device cpu or fewer processes"
            )
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if want_cuda else "gloo")
    return DistributedContext(rank=rank, world_size=world, device=dev)
