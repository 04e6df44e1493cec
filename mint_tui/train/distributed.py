"""Data-parallel MINT training with torch DDP, launched by ``torchrun``.

``torchrun --nproc-per-node N -m mint_tui train ...`` starts N processes (environment variables
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``). Every process prepares the same faces (rank 0 first,
filling the caches, the others then read them), trains on its share of every batch, and only
rank 0 writes the bundle.

One process and N processes give the same model for the same seed, to float rounding:

* batches: each epoch is one permutation of the training rows (torch's ``DistributedSampler``,
  seed + epoch); global batch k is the same rows as one process's batch k, and each process takes
  its ``DistributedSampler`` share of them (the padding that evens out the shares is dropped);
* the loss of each process is its rows' sum divided by the whole batch's size (times N, as DDP
  averages gradients over processes), so the gradient is the whole batch's;
* batch normalisation uses the statistics of the whole batch (:class:`GlobalBatchNorm`: sums in
  float64, all-reduced, so the rounding hardly depends on the split; works with gloo on the CPU,
  which ``nn.SyncBatchNorm`` does not);
* random draws (dropout, mirroring) are made for the whole batch and sliced (``models/shards.py``);
* validation and calibration are scored whole on every process (cheap; no collective), so every
  process takes the same early-stopping decisions.

``torch.distributed`` is imported only when more than one process runs.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def current_world(device: str = "cpu") -> World:
    """The processes of this run: started by torchrun with WORLD_SIZE > 1, else one process.

    The process group is created on first use (gloo on the CPU, NCCL on CUDA)."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1:
        return World()
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0") or 0)
    if not dist.is_initialized():
        cuda = str(device).startswith("cuda")
        if cuda:
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if cuda else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), local_rank)


def device_for(world: World, device: str) -> str:
    """Each process on its own GPU: ``cuda`` -> ``cuda:LOCAL_RANK`` when several processes run."""
    return f"cuda:{world.local_rank}" if world.size > 1 and device == "cuda" else device


def shutdown() -> None:
    """End the process group, if this run started one."""
    import sys

    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.size > 1:
        import torch.distributed as dist

        dist.barrier()


@contextmanager
def rank_zero_first(world: World):
    """Rank 0 runs the block first (filling the caches), the others after it."""
    if not world.main:
        barrier(world)
    yield
    if world.main:
        barrier(world)


def all_sum(world: World, value: float) -> float:
    if world.size <= 1:
        return value
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item())


class _AllSum(torch.autograd.Function):
    """Sum over processes, with the gradient summed back (each process's sums feed every process)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        out = x.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch normalisation over the whole batch of all processes (1d and 2d inputs)."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() not in (2, 4):
            raise ValueError(f"expected a 2d or 4d input, got {x.dim()}d")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        x64 = x.double()
        local = torch.cat([x64.sum(dims), (x64 * x64).sum(dims),
                           x.new_tensor([x.numel() / max(x.shape[1], 1)], dtype=torch.float64)])
        total = _AllSum.apply(local)
        c = self.num_features
        count = total[2 * c]
        mean = total[:c] / count
        var = (total[c:2 * c] / count - mean * mean).clamp_min(0)
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(mean.to(self.running_mean.dtype), alpha=m)
            unbiased = var * count / (count - 1).clamp_min(1)
            self.running_var.mul_(1 - m).add_(unbiased.to(self.running_var.dtype), alpha=m)
        y = (x - mean.to(x.dtype).view(shape)) * torch.rsqrt(var.to(x.dtype).view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def globalise_batch_norm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm1d/2d by a :class:`GlobalBatchNorm` with the same state (names unchanged)."""
    for name, child in list(model.named_children()):
        if type(child) in (nn.BatchNorm1d, nn.BatchNorm2d):
            new = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)
            new.plain_class = type(child)
            new.load_state_dict(child.state_dict())
            setattr(model, name, new.train(child.training).to(child.running_mean.device))
        else:
            globalise_batch_norm(child)
    return model


def local_batch_norm(model: nn.Module) -> nn.Module:
    """Undo :func:`globalise_batch_norm`: the bundle's model is the plain one."""
    for name, child in list(model.named_children()):
        if isinstance(child, GlobalBatchNorm):
            plain = child.plain_class(child.num_features, child.eps, child.momentum, child.affine,
                                      child.track_running_stats)
            plain.load_state_dict(child.state_dict())
            setattr(model, name, plain.train(child.training).to(child.running_mean.device))
        else:
            local_batch_norm(child)
    return model


class EpochBatches:
    """One epoch's batches: (the whole batch's rows, this process's positions in it), both sorted.

    The permutation is ``DistributedSampler``'s (seed + epoch); with one process the whole batch is
    this process's."""

    def __init__(self, train_idx: np.ndarray, batch_size: int, world: World, seed: int) -> None:
        if batch_size % world.size:
            raise ValueError(f"batch size {batch_size} must be a multiple of the number of processes ({world.size})")
        self.train_idx, self.batch_size, self.world, self.seed = np.asarray(train_idx), batch_size, world, seed

    def epoch(self, epoch: int):
        from torch.utils.data import DistributedSampler

        n = len(self.train_idx)
        whole = DistributedSampler(range(n), num_replicas=1, rank=0, shuffle=True, seed=self.seed)
        whole.set_epoch(epoch)
        order = np.fromiter(iter(whole), dtype=np.int64, count=n)
        mine = DistributedSampler(range(n), num_replicas=self.world.size, rank=self.world.rank, shuffle=True,
                                  seed=self.seed)
        mine.set_epoch(epoch)
        share = self.batch_size // self.world.size
        positions = np.arange(len(mine)) * self.world.size + self.world.rank  # place in the epoch's order
        picked = np.fromiter(iter(mine), dtype=np.int64, count=len(mine))
        for k, start in enumerate(range(0, n, self.batch_size)):
            batch = np.sort(self.train_idx[order[start:start + self.batch_size]])
            sl = slice(k * share, (k + 1) * share)
            real = positions[sl] < n  # DistributedSampler pads the last share with repeated rows
            rows = np.searchsorted(batch, np.sort(self.train_idx[picked[sl][real]]))
            yield batch, rows
