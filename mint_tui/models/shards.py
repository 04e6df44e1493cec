"""Random draws per sample that do not depend on how a batch is split across processes.

Data-parallel training (``mint_tui/train/distributed.py``) gives each process some rows of a
batch. For its result to equal one process's, each row must get the same random numbers
(dropout mask, mirroring) as it would in the whole batch. Inside :func:`sample_rows`, draws are
made for the whole batch with the (identically seeded) generator and this process keeps its
rows; outside it (one process), draws are exactly the usual ones.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch
from torch import nn

_local = threading.local()


@contextmanager
def sample_rows(total: int, rows: torch.Tensor):
    """While active, this process's batch is the rows ``rows`` of a batch of ``total`` samples."""
    old = getattr(_local, "rows", None)
    _local.rows = (int(total), rows)
    try:
        yield
    finally:
        _local.rows = old


def _rows(n: int):
    current = getattr(_local, "rows", None)
    if current is None:
        return None
    total, rows = current
    if len(rows) != n:
        raise RuntimeError(f"sample_rows: a batch of {n} rows, but {len(rows)} were declared")
    return total, rows


def rand_rows(n: int, *tail: int, device=None) -> torch.Tensor:
    """``torch.rand(n, *tail)``, or this process's rows of the whole batch's draw."""
    shard = _rows(n)
    if shard is None:
        return torch.rand(n, *tail, device=device)
    total, rows = shard
    return torch.rand(total, *tail, device=device)[rows.to(device)]


class RowDropout(nn.Dropout):
    """``nn.Dropout`` whose mask, inside :func:`sample_rows`, is this process's rows of the whole
    batch's mask. The mask is drawn as ``nn.Dropout`` draws it on the CPU (``bernoulli_``), also
    on CUDA (where ``nn.Dropout`` uses a fused kernel with other draws), so that one process and
    several draw the same masks on either device."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.numel() == 0 and _rows(len(x)) is None:
            return super().forward(x)
        shard = _rows(len(x))
        total, rows = shard if shard is not None else (len(x), None)
        noise = torch.empty((total, *x.shape[1:]), dtype=x.dtype, device=x.device).bernoulli_(1 - self.p)
        if rows is not None:
            noise = noise[rows.to(x.device)]
        return x * noise.div_(1 - self.p)
