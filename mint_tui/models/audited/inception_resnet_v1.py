"""Inception-ResNet-v1 as facenet-pytorch builds it (``InceptionResnetV1``, VGGFace2 / CASIA weights).

Module names follow ``models/inception_resnet_v1.py`` of timesler/facenet-pytorch so that its state
dicts load 1:1 (its classifier ``logits.*`` is not part of the embedding model and is dropped)::

    conv2d_1a conv2d_2a conv2d_2b maxpool_3a conv2d_3b conv2d_4a conv2d_4b   (BasicConv2d: conv, bn, relu)
    repeat_1 (5 x Block35)  mixed_6a  repeat_2 (10 x Block17)  mixed_7a  repeat_3 (5 x Block8)  block8
    avgpool_1a dropout last_linear (1792 -> 512, no bias) last_bn (BatchNorm1d)

Shapes for a 3x160x160 input: conv2d_4b 256x17x17 ... repeat_1 256x17x17, repeat_2 896x8x8,
repeat_3 1792x3x3, block8 1792x3x3; the embedding (512) is L2-normalised, as facenet-pytorch
returns it. Input: RGB, (pixel - 127.5) / 128 (facenet-pytorch's ``fixed_image_standardization``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["InceptionResnetV1", "inception_resnet_v1"]


class BasicConv2d(nn.Module):
    def __init__(self, in_planes: int, out_planes: int, kernel_size, stride: int, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_planes, eps=0.001, momentum=0.1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def _chain(*convs: BasicConv2d) -> nn.Sequential:
    return nn.Sequential(*convs)


class _Residual(nn.Module):
    """Branches, concatenated, a 1x1 convolution back to the input width, scaled and added."""

    def __init__(self, scale: float, relu: bool = True):
        super().__init__()
        self.scale = scale
        if relu:
            self.relu = nn.ReLU()

    def branches(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2d(torch.cat(self.branches(x), 1)) * self.scale + x
        return self.relu(out) if hasattr(self, "relu") else out


class Block35(_Residual):
    def __init__(self, scale: float = 1.0):
        super().__init__(scale)
        self.branch0 = BasicConv2d(256, 32, 1, 1)
        self.branch1 = _chain(BasicConv2d(256, 32, 1, 1), BasicConv2d(32, 32, 3, 1, 1))
        self.branch2 = _chain(BasicConv2d(256, 32, 1, 1), BasicConv2d(32, 32, 3, 1, 1), BasicConv2d(32, 32, 3, 1, 1))
        self.conv2d = nn.Conv2d(96, 256, 1, 1)

    def branches(self, x):
        return [self.branch0(x), self.branch1(x), self.branch2(x)]


class Block17(_Residual):
    def __init__(self, scale: float = 1.0):
        super().__init__(scale)
        self.branch0 = BasicConv2d(896, 128, 1, 1)
        self.branch1 = _chain(BasicConv2d(896, 128, 1, 1), BasicConv2d(128, 128, (1, 7), 1, (0, 3)),
                              BasicConv2d(128, 128, (7, 1), 1, (3, 0)))
        self.conv2d = nn.Conv2d(256, 896, 1, 1)

    def branches(self, x):
        return [self.branch0(x), self.branch1(x)]


class Block8(_Residual):
    def __init__(self, scale: float = 1.0, relu: bool = True):
        super().__init__(scale, relu)
        self.branch0 = BasicConv2d(1792, 192, 1, 1)
        self.branch1 = _chain(BasicConv2d(1792, 192, 1, 1), BasicConv2d(192, 192, (1, 3), 1, (0, 1)),
                              BasicConv2d(192, 192, (3, 1), 1, (1, 0)))
        self.conv2d = nn.Conv2d(384, 1792, 1, 1)

    def branches(self, x):
        return [self.branch0(x), self.branch1(x)]


class Mixed6a(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = BasicConv2d(256, 384, 3, 2)
        self.branch1 = _chain(BasicConv2d(256, 192, 1, 1), BasicConv2d(192, 192, 3, 1, 1), BasicConv2d(192, 256, 3, 2))
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)


class Mixed7a(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = _chain(BasicConv2d(896, 256, 1, 1), BasicConv2d(256, 384, 3, 2))
        self.branch1 = _chain(BasicConv2d(896, 256, 1, 1), BasicConv2d(256, 256, 3, 2))
        self.branch2 = _chain(BasicConv2d(896, 256, 1, 1), BasicConv2d(256, 256, 3, 1, 1), BasicConv2d(256, 256, 3, 2))
        self.branch3 = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)), 1)


class InceptionResnetV1(nn.Module):
    def __init__(self, dropout: float = 0.6):
        super().__init__()
        self.conv2d_1a = BasicConv2d(3, 32, 3, 2)
        self.conv2d_2a = BasicConv2d(32, 32, 3, 1)
        self.conv2d_2b = BasicConv2d(32, 64, 3, 1, 1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = BasicConv2d(64, 80, 1, 1)
        self.conv2d_4a = BasicConv2d(80, 192, 3, 1)
        self.conv2d_4b = BasicConv2d(192, 256, 3, 2)
        self.repeat_1 = nn.Sequential(*[Block35(0.17) for _ in range(5)])
        self.mixed_6a = Mixed6a()
        self.repeat_2 = nn.Sequential(*[Block17(0.10) for _ in range(10)])
        self.mixed_7a = Mixed7a()
        self.repeat_3 = nn.Sequential(*[Block8(0.20) for _ in range(5)])
        self.block8 = Block8(relu=False)
        self.avgpool_1a = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.last_linear = nn.Linear(1792, 512, bias=False)
        self.last_bn = nn.BatchNorm1d(512, eps=0.001, momentum=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in ("conv2d_1a", "conv2d_2a", "conv2d_2b", "maxpool_3a", "conv2d_3b", "conv2d_4a", "conv2d_4b",
                     "repeat_1", "mixed_6a", "repeat_2", "mixed_7a", "repeat_3", "block8", "avgpool_1a"):
            x = getattr(self, name)(x)
        x = self.last_bn(self.last_linear(self.dropout(x).flatten(1)))
        return F.normalize(x, p=2, dim=1)


def inception_resnet_v1(dropout: float = 0.6) -> InceptionResnetV1:
    return InceptionResnetV1(dropout)
