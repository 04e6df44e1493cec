"""MobileFaceNet as insightface's arcface_torch builds it (``get_mbf`` / ``get_mbf_large``).

The module names follow ``recognition/arcface_torch/backbones/mobilefacenet.py`` so that a
``backbone.pth`` trained with arcface_torch (and the weights inside insightface's ``w600k_mbf``
packs) load 1:1::

    layers.0   ConvBlock 3x3 stride 2          (layers = Sequential(conv, bn, prelu))
    layers.1   depth-wise ConvBlock (blocks[0] == 1) or Residual
    layers.2   DepthWise stride 2              (layers = Sequential(ConvBlock, ConvBlock, LinearBlock))
    layers.3   Residual                        (layers = Sequential(DepthWise, ...))
    layers.4-7 DepthWise stride 2 / Residual, twice more
    conv_sep   ConvBlock 1x1 -> 512
    features   GDC: layers = Sequential(LinearBlock 7x7 depth-wise, Flatten, Linear, BatchNorm1d)

Shapes for a 3x112x112 input with scale 2 (``mbf``): layers.1 128x56x56, layers.3 128x28x28,
layers.5 256x14x14, layers.7 256x7x7, embedding 512 (not L2-normalised). ``mbf_large`` (scale 4)
doubles the channels. Input: RGB, (pixel - 127.5) / 127.5, like every arcface_torch model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ArcfaceMobileFaceNet", "mbf", "mbf_large"]


class ConvBlock(nn.Module):
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride=stride, padding=padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_c), nn.PReLU(out_c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LinearBlock(nn.Module):
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride=stride, padding=padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DepthWise(nn.Module):
    """1x1 expansion to ``groups`` channels, depth-wise 3x3 (with the stride), 1x1 projection."""

    def __init__(self, in_c: int, out_c: int, residual: bool = False, stride=(2, 2), groups: int = 1):
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            ConvBlock(in_c, groups),
            ConvBlock(groups, groups, kernel=(3, 3), stride=stride, padding=(1, 1), groups=groups),
            LinearBlock(groups, out_c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.residual else out


class Residual(nn.Module):
    def __init__(self, c: int, num_block: int, groups: int):
        super().__init__()
        self.layers = nn.Sequential(*[DepthWise(c, c, True, (1, 1), groups) for _ in range(num_block)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class GDC(nn.Module):
    """Global depth-wise convolution over the 7x7 map, then the embedding."""

    def __init__(self, embedding_size: int):
        super().__init__()
        self.layers = nn.Sequential(
            LinearBlock(512, 512, kernel=(7, 7), groups=512), nn.Flatten(),
            nn.Linear(512, embedding_size, bias=False), nn.BatchNorm1d(embedding_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ArcfaceMobileFaceNet(nn.Module):
    def __init__(self, embedding_size: int = 512, blocks: Sequence[int] = (1, 4, 6, 2), scale: int = 2):
        super().__init__()
        c1, c2 = 64 * scale, 128 * scale
        stem = (ConvBlock(c1, c1, kernel=(3, 3), padding=(1, 1), groups=64) if blocks[0] == 1
                else Residual(c1, blocks[0], groups=128))
        self.layers = nn.ModuleList([
            ConvBlock(3, c1, kernel=(3, 3), stride=(2, 2), padding=(1, 1)),
            stem,
            DepthWise(c1, c1, stride=(2, 2), groups=128),
            Residual(c1, blocks[1], groups=128),
            DepthWise(c1, c2, stride=(2, 2), groups=256),
            Residual(c2, blocks[2], groups=256),
            DepthWise(c2, c2, stride=(2, 2), groups=512),
            Residual(c2, blocks[3], groups=256),
        ])
        self.conv_sep = ConvBlock(c2, 512)
        self.features = GDC(embedding_size)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return self.features(self.conv_sep(x))


def mbf(embedding_size: int = 512) -> ArcfaceMobileFaceNet:
    """arcface_torch ``get_mbf``: blocks (1, 4, 6, 2), scale 2."""
    return ArcfaceMobileFaceNet(embedding_size, (1, 4, 6, 2), 2)


def mbf_large(embedding_size: int = 512) -> ArcfaceMobileFaceNet:
    """arcface_torch ``get_mbf_large``: blocks (2, 8, 12, 4), scale 4."""
    return ArcfaceMobileFaceNet(embedding_size, (2, 8, 12, 4), 4)
