"""Improved ResNets (iResNet) for face recognition.

The module layout follows insightface's ``recognition/arcface_torch/backbones/iresnet.py``
so that a ``backbone.pth`` state dict trained with arcface_torch loads 1:1 (same module
names, same parameter and buffer shapes)::

    conv1 bn1 prelu layer1 layer2 layer3 layer4 bn2 dropout fc features
    layerN.K = IBasicBlock(bn1 conv1 bn2 prelu conv2 bn3 downsample)
    layerN.0.downsample = Sequential(conv1x1 stride 2, BatchNorm2d)

Shapes for a 3x112x112 input (per sample)::

    conv1/bn1/prelu   64 x 112 x 112
    layer1            64 x  56 x  56
    layer2           128 x  28 x  28
    layer3           256 x  14 x  14
    layer4           512 x   7 x   7
    fc / features    embedding_size          (the model output, not L2-normalised)

Expected input: RGB, aligned 112x112 face crop, scaled to [-1, 1]
(``(pixel - 127.5) / 127.5``), as in arcface_torch.

Two deliberate differences from arcface_torch that do not change the state dict:
no fp16 autocast switch, and ``dropout`` is not in-place (so a tap on ``bn2`` is never
modified behind the caller's back).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["IBasicBlock", "IResNet", "iresnet18", "iresnet34", "iresnet50", "iresnet100"]

# Number of IBasicBlocks in layer1..layer4.
IRESNET_LAYERS: dict[str, tuple[int, int, int, int]] = {
    "iresnet18": (2, 2, 2, 2),
    "iresnet34": (3, 4, 6, 3),
    "iresnet50": (3, 4, 14, 3),
    "iresnet100": (3, 13, 30, 3),
}


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class IBasicBlock(nn.Module):
    """Pre-activation style basic block: BN-conv-BN-PReLU-conv-BN plus identity."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-05)
        self.conv1 = conv3x3(inplanes, planes)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-05)
        self.prelu = nn.PReLU(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-05)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.bn1(x)
        out = self.conv1(out)
        out = self.bn2(out)
        out = self.prelu(out)
        out = self.conv2(out)
        out = self.bn3(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return out + identity


class IResNet(nn.Module):
    """iResNet backbone producing an ``embedding_size`` face embedding."""

    fc_scale = 7 * 7  # spatial size of layer4 for a 112x112 input

    def __init__(self, layers: Sequence[int], embedding_size: int = 512,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"layers must have 4 entries, got {list(layers)}")
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes, eps=1e-05)
        self.prelu = nn.PReLU(self.inplanes)
        self.layer1 = self._make_layer(64, layers[0], stride=2)
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.bn2 = nn.BatchNorm2d(512 * IBasicBlock.expansion, eps=1e-05)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(512 * IBasicBlock.expansion * self.fc_scale, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size, eps=1e-05)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.1)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * IBasicBlock.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * IBasicBlock.expansion, stride),
                nn.BatchNorm2d(planes * IBasicBlock.expansion, eps=1e-05),
            )
        layers = [IBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * IBasicBlock.expansion
        for _ in range(1, blocks):
            layers.append(IBasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.prelu(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.bn2(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        x = self.features(x)
        return x


def iresnet18(embedding_size: int = 512, dropout: float = 0.0) -> IResNet:
    return IResNet(IRESNET_LAYERS["iresnet18"], embedding_size=embedding_size, dropout=dropout)


def iresnet34(embedding_size: int = 512, dropout: float = 0.0) -> IResNet:
    return IResNet(IRESNET_LAYERS["iresnet34"], embedding_size=embedding_size, dropout=dropout)


def iresnet50(embedding_size: int = 512, dropout: float = 0.0) -> IResNet:
    return IResNet(IRESNET_LAYERS["iresnet50"], embedding_size=embedding_size, dropout=dropout)


def iresnet100(embedding_size: int = 512, dropout: float = 0.0) -> IResNet:
    return IResNet(IRESNET_LAYERS["iresnet100"], embedding_size=embedding_size, dropout=dropout)
