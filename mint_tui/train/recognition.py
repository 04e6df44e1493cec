"""Training an audited face-recognition model with a margin-based softmax (CosFace / ArcFace).

Used to build the demo pair: a zoo architecture trained only on the member images, so that
membership is known exactly. Plain PyTorch; deterministic for a given seed on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mint_tui.faces import to_tensor_batch


class MarginHead(nn.Module):
    """Normalised class centres and a margin on the target logit.

    ``cosface``: s * (cos(theta) - m); ``arcface``: s * cos(theta + m).
    """

    def __init__(self, embedding_size: int, num_classes: int, kind: str = "cosface", s: float = 32.0,
                 m: float = 0.35) -> None:
        super().__init__()
        if kind not in ("cosface", "arcface"):
            raise ValueError(f"unknown margin head {kind!r}")
        self.kind, self.s, self.m = kind, s, m
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_size))
        nn.init.normal_(self.weight, std=0.01)

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(embeddings), F.normalize(self.weight))

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = self.cosine(embeddings).clamp(-1 + 1e-7, 1 - 1e-7)
        onehot = F.one_hot(labels, cos.shape[1]).bool()
        if self.kind == "cosface":
            target = cos - self.m
        else:
            theta = torch.acos(cos)
            target = torch.where(theta + self.m < math.pi, torch.cos(theta + self.m), cos - self.m * math.sin(self.m))
        return self.s * torch.where(onehot, target, cos)


@dataclass
class RecognitionConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 0.1
    weight_decay: float = 5e-4
    head: str = "cosface"
    scale: float = 32.0
    margin: float = 0.35
    seed: int = 0
    flip: bool = True


def _augment(crops: np.ndarray, rng: np.random.Generator, flip: bool) -> list[np.ndarray]:
    out = []
    for crop in crops:
        out.append(crop[:, ::-1] if flip and rng.random() < 0.5 else crop)
    return out


def train_recognition(model: nn.Module, crops: np.ndarray, labels: np.ndarray, num_classes: int,
                      embedding_size: int, preprocess: dict, cfg: RecognitionConfig,
                      log: Callable[[str], None] = print) -> MarginHead:
    """Train ``model`` in place on aligned crops (N, H, W, 3 BGR uint8) with integer labels.

    SGD with momentum, one-cycle cosine learning rate; returns the trained margin head (its
    normalised weights are the class centres).
    """
    torch.manual_seed(cfg.seed)
    model.to(memory_format=torch.channels_last)  # ~2x faster convolutions on CPU
    rng = np.random.default_rng(cfg.seed)
    head = MarginHead(embedding_size, num_classes, cfg.head, cfg.scale, cfg.margin)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay, nesterov=True)
    steps_per_epoch = math.ceil(len(crops) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch,
                                                pct_start=0.1)
    labels_t = torch.as_tensor(labels, dtype=torch.long)
    color, mean, std = preprocess["color"], tuple(preprocess["mean"]), tuple(preprocess["std"])
    for epoch in range(cfg.epochs):
        model.train()
        head.train()
        order = rng.permutation(len(crops))
        t0, total, correct, seen = time.perf_counter(), 0.0, 0, 0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            if len(idx) < 2:
                continue  # BatchNorm needs two samples
            x = to_tensor_batch(_augment(crops[idx], rng, cfg.flip), color, mean, std)
            x = x.contiguous(memory_format=torch.channels_last)
            y = labels_t[idx]
            logits = head(model(x), y)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
        log(f"epoch {epoch + 1}/{cfg.epochs}  loss {total / seen:.3f}  train acc {correct / seen:.3f}  "
            f"{time.perf_counter() - t0:.1f}s")
    model.eval()
    head.eval()
    return head


@torch.inference_mode()
def embed(model: nn.Module, crops: np.ndarray, preprocess: dict, batch_size: int = 128) -> torch.Tensor:
    model.eval()
    color, mean, std = preprocess["color"], tuple(preprocess["mean"]), tuple(preprocess["std"])
    out = [model(to_tensor_batch(list(crops[i:i + batch_size]), color, mean, std))
           for i in range(0, len(crops), batch_size)]
    return torch.cat(out) if out else torch.zeros(0)


def identification_accuracy(model: nn.Module, head: MarginHead, crops: np.ndarray, labels: np.ndarray,
                            preprocess: dict) -> float:
    """Top-1 closed-set identification: nearest class centre by cosine."""
    if len(crops) == 0:
        return float("nan")
    with torch.inference_mode():
        pred = head.cosine(embed(model, crops, preprocess)).argmax(1).numpy()
    return float((pred == labels).mean())
