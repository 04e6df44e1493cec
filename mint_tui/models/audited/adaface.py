"""AdaFace's IR-50 / IR-101 backbones (``net.py`` of mk-minchul/AdaFace, mode 'ir', 112x112 input).

Module names follow AdaFace's ``Backbone`` so that the weights of its Lightning ``.ckpt`` (under
``state_dict`` with a ``model.`` prefix) load 1:1::

    input_layer    Sequential(conv 3x3, bn, prelu)                       64 x 112 x 112
    body.N         BasicBlockIR: shortcut_layer (MaxPool2d(1, s) or Sequential(conv 1x1, bn)),
                   res_layer = Sequential(bn, conv 3x3, bn, prelu, conv 3x3 stride s, bn)
    output_layer   Sequential(bn, dropout, flatten, linear 512*7*7 -> 512, BatchNorm1d(affine=False))

The first unit of every stage has stride 2: the stage outputs are 64x56x56, 128x28x28, 256x14x14
and 512x7x7. The forward returns ``(embedding / |embedding|, |embedding|)`` like AdaFace's; the
taps' ``embedding`` is the first element (the L2-normalised feature AdaFace compares). Input: BGR,
(pixel / 255 - 0.5) / 0.5.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AdaFaceIR", "ADAFACE_UNITS", "adaface_ir50", "adaface_ir101"]

#: Units per stage.
ADAFACE_UNITS = {50: (3, 4, 14, 3), 101: (3, 13, 30, 3)}


class BasicBlockIR(nn.Module):
    def __init__(self, in_channel: int, depth: int, stride: int):
        super().__init__()
        if in_channel == depth:
            self.shortcut_layer = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(in_channel, depth, 1, stride, bias=False),
                                                nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channel), nn.Conv2d(in_channel, depth, 3, 1, 1, bias=False),
            nn.BatchNorm2d(depth), nn.PReLU(depth), nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class AdaFaceIR(nn.Module):
    def __init__(self, num_layers: int = 50, embedding_size: int = 512):
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        units = []
        in_channel = 64
        for depth, count in zip((64, 128, 256, 512), ADAFACE_UNITS[num_layers]):
            units.append(BasicBlockIR(in_channel, depth, 2))
            units += [BasicBlockIR(depth, depth, 1) for _ in range(count - 1)]
            in_channel = depth
        self.body = nn.Sequential(*units)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512), nn.Dropout(0.4), nn.Flatten(), nn.Linear(512 * 7 * 7, embedding_size),
            nn.BatchNorm1d(embedding_size, affine=False))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.output_layer(self.body(self.input_layer(x)))
        norm = torch.norm(x, 2, 1, True)
        return torch.div(x, norm), norm


def stage_ends(num_layers: int) -> tuple[str, str, str, str]:
    """Module names of the last unit of each stage (the stage outputs), e.g. body.2 ... body.23."""
    ends, total = [], 0
    for count in ADAFACE_UNITS[num_layers]:
        total += count
        ends.append(f"body.{total - 1}")
    return tuple(ends)  # type: ignore[return-value]


def adaface_ir50(embedding_size: int = 512) -> AdaFaceIR:
    return AdaFaceIR(50, embedding_size)


def adaface_ir101(embedding_size: int = 512) -> AdaFaceIR:
    return AdaFaceIR(101, embedding_size)
