"""Fitting a MINT model on activations of members (1) vs external data (0), then calibrating.

The training images are split three ways: ``train`` fits the weights, ``val`` drives early
stopping, ``cal`` sets the threshold and the inconclusive band. Test data never enters here.
External images are split by identity (the photo's folder), so calibration sees people the
MINT model never saw, as at test time.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from mint_tui.models.mint import build_mint
from mint_tui.models.shards import sample_rows
from mint_tui.train.distributed import (EpochBatches, all_sum, current_world, device_for, globalise_batch_norm,
                                        local_batch_norm)


@dataclass
class MintFitConfig:
    kind: str = "cnn"
    taps: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4", "embedding")
    mint_config: dict = field(default_factory=dict)
    epochs: int = 40
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 6
    val_fraction: float = 0.15
    cal_fraction: float = 0.2
    seed: int = 0
    device: str = "cpu"
    #: Score (and calibrate) each face as the mean over its crop and the crop mirrored left-right:
    #: ROC AUC +0.013 (CNN) and +0.012 (MLP) on the demo's calibration split, for twice the audited
    #: model's work per face (docs/RESULTS.md, "Mirror average").
    mirror: bool = True

    def __post_init__(self) -> None:
        """Arguments that would write an untrained pair (every batch skipped, no epoch run) are
        refused before any work."""
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, not {self.epochs}")
        if self.batch_size < 2:
            raise ValueError(f"batch size must be at least 2 (a batch of one face cannot be trained on), not "
                             f"{self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a positive number, not {self.lr}")
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1 epoch, not {self.patience}")
        if not (0 < self.val_fraction and 0 < self.cal_fraction and self.val_fraction + self.cal_fraction < 1):
            raise ValueError("the validation and calibration fractions must be positive and sum to less than 1")


def split_three(n: int, groups: list[str] | None, val: float, cal: float,
                seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (train, val, cal); with ``groups`` every group falls entirely in one part."""
    rng = np.random.default_rng(seed)
    if groups is None:
        order = rng.permutation(n)
        n_val, n_cal = round(n * val), round(n * cal)
        return np.sort(order[n_val + n_cal:]), np.sort(order[:n_val]), np.sort(order[n_val:n_val + n_cal])
    names = sorted(set(groups))
    rng.shuffle(names)
    part: dict[str, int] = {}
    counts = [0, 0, 0]
    targets = [n * (1 - val - cal), n * val, n * cal]
    by_group: dict[str, int] = {}
    for g in groups:
        by_group[g] = by_group.get(g, 0) + 1
    for g in names:  # greedy: give each group to the part furthest below its target
        k = int(np.argmax([t - c for t, c in zip(targets, counts)]))
        part[g] = k
        counts[k] += by_group[g]
    assign = np.array([part[g] for g in groups])
    return tuple(np.nonzero(assign == k)[0] for k in range(3))  # type: ignore[return-value]


def _batch(acts, idx: np.ndarray, device: str | torch.device = "cpu", taps=None) -> dict[str, torch.Tensor]:
    """Rows ``idx`` (sorted) of a source (``.batch``, see train/activations.py) or a dict of arrays."""
    idx = np.sort(idx)
    if hasattr(acts, "batch"):
        feats = acts.batch(idx, taps)
    else:
        feats = {t: torch.from_numpy(np.asarray(a[idx], dtype=np.float32)) for t, a in acts.items()
                 if taps is None or t in taps}
    return {t: x.to(device) for t, x in feats.items()}


@torch.inference_mode()
def predict(model: torch.nn.Module, acts, idx: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Membership probabilities for the rows ``idx`` (returned in sorted order of idx)."""
    model.eval()
    idx = np.sort(idx)
    device = next(model.parameters()).device
    out = [torch.sigmoid(model(_batch(acts, idx[i:i + batch_size], device))).cpu()
           for i in range(0, len(idx), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros(0)


def fit_mint(acts, tap_shapes: dict[str, tuple], labels: np.ndarray,
             train_idx: np.ndarray, val_idx: np.ndarray, cfg: MintFitConfig,
             log: Callable[[str], None] = print) -> tuple[torch.nn.Module, list[dict]]:
    """Train with class-balanced BCE and AdamW; keep the weights of the best validation loss.

    Under ``torchrun`` with several processes, each trains on its share of every batch (torch DDP,
    see train/distributed.py); the result is the one-process result, to float rounding."""
    world = current_world(cfg.device)
    device = device_for(world, cfg.device)
    torch.manual_seed(cfg.seed)
    model = build_mint(cfg.kind, {t: tap_shapes[t] for t in cfg.taps}, cfg.mint_config)
    members = np.sort(train_idx[labels[train_idx] == 1])
    if len(members) and len(getattr(model, "prototype_branches", ())):
        model.initialise_prototypes(_batch(acts, members, taps=set(model.prototype_branches)), cfg.seed)
    model.to(device)
    trained = model
    if world.size > 1:
        globalise_batch_norm(model)
        trained = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[torch.device(device).index] if device.startswith("cuda") else None,
            forward_sync_buffers=False)  # GlobalBatchNorm keeps running statistics equal on every process
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(train_idx) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(steps, 1), pct_start=0.1)
    y = torch.as_tensor(labels, dtype=torch.float32)
    n_pos = float(labels[train_idx].sum())
    pos_weight = torch.tensor((len(train_idx) - n_pos) / max(n_pos, 1.0)).to(device)
    val_y = labels[np.sort(val_idx)]
    batches = EpochBatches(train_idx, cfg.batch_size, world, cfg.seed)
    best, best_loss, stale, history = None, math.inf, 0, []
    for epoch in range(cfg.epochs):
        model.train()
        t0, total = time.perf_counter(), 0.0
        for batch, rows in batches.epoch(epoch):
            if len(batch) < max(2, world.size):
                continue
            idx = batch[rows]
            target = y[idx].to(device)
            if world.size > 1:
                with sample_rows(len(batch), torch.from_numpy(rows)):
                    logits = trained(_batch(acts, idx, device))
                loss_sum = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="sum")
                loss = loss_sum * (world.size / len(batch))  # DDP averages over processes: the whole batch's mean
            else:
                loss = F.binary_cross_entropy_with_logits(trained(_batch(acts, idx, device)), target,
                                                          pos_weight=pos_weight)
                loss_sum = loss * len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss_sum.detach())
        total = all_sum(world, total)
        p = np.clip(predict(model, acts, val_idx), 1e-7, 1 - 1e-7)
        val_loss = float(-np.mean(val_y * np.log(p) + (1 - val_y) * np.log(1 - p)))
        val_acc = float(((p >= 0.5) == val_y).mean())
        history.append({"epoch": epoch + 1, "train_loss": total / len(train_idx), "val_loss": val_loss,
                        "val_acc": val_acc})
        log(f"epoch {epoch + 1}/{cfg.epochs}  train loss {total / len(train_idx):.4f}  val loss {val_loss:.4f}  "
            f"val acc {val_acc:.3f}  {time.perf_counter() - t0:.1f}s")
        if val_loss < best_loss - 1e-4:
            best, best_loss, stale = copy.deepcopy(model.state_dict()), val_loss, 0
        else:
            stale += 1
            if stale >= cfg.patience:
                log(f"early stop: no validation improvement for {cfg.patience} epochs")
                break
    if best is not None:
        model.load_state_dict(best)
    local_batch_norm(model)
    model.eval()
    return model.cpu(), history
