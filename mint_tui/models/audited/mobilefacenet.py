"""MobileFaceNet: a light face-recognition backbone that trains on a CPU.

After Chen et al., "MobileFaceNets: Efficient CNNs for Accurate Real-Time Face
Verification on Mobile Devices" (2018), arranged in four named stages ``layer1..layer4``
so that the MINT taps are the same names as for the iResNets.

Layout (``width=1.0``; per-sample shapes for a 3x112x112 input)::

    conv1     ConvBlock 3x3 s2, 3 -> 64                          64 x 56 x 56
    layer1    depthwise ConvBlock 3x3 s1                          64 x 56 x 56
    layer2    Bottleneck s2 t=1, then 2x Bottleneck t=2           64 x 28 x 28
    layer3    Bottleneck s2 t=2, then 4x Bottleneck t=2          128 x 14 x 14
    layer4    Bottleneck s2 t=2, then 2x Bottleneck t=2          128 x  7 x  7
    conv_sep  ConvBlock 1x1, 128 -> 512                          512 x  7 x  7
    gdc       global depthwise conv 7x7 + BN (no activation)     512 x  1 x  1
    dropout, fc (Linear, no bias), features (BatchNorm1d)        embedding_size

A ConvBlock is conv-BN-PReLU; a Bottleneck is the MobileNetV2 inverted residual
(1x1 expand -> 3x3 depthwise carrying the stride -> 1x1 linear projection, identity
shortcut when the stride is 1 and the channel count is unchanged) with PReLU.
Compared with the paper's network (bottlenecks 5/1+6/1+2 with expansions 2/4/2/4/2)
the stages are shallower (3/5/3 bottlenecks), the first bottleneck of layer2 has no
expansion and the other stage transitions expand by 2, not 4: about 0.12 GMAC per
112x112 image instead of 0.22, 0.92M parameters with a 512-d embedding.

``width`` multiplies every channel count (rounded to a multiple of 8), including the
512 of ``conv_sep``/``gdc``; ``width=0.5`` gives 32/32/64/64 stage channels and
0.30M parameters.  The embedding is not L2-normalised.  Expected input as for the
iResNets: RGB, aligned 112x112 crop scaled to [-1, 1].

Speed on the project's 2-core CPU box (forward only, eval, batch 64, float32, best of 5;
measured with ``bench/audited_forward.py``):

* width 1.0: ~200 img/s with 2 threads when the machine was nearly idle (one run, load
  ~0.9); 64-67 img/s with 1 thread and 37-40 img/s with 2 threads while other jobs
  kept the load at ~4.
* width 0.5: ~250 img/s (1 thread, load ~4).
* ``model.to(memory_format=torch.channels_last)`` with a channels-last input makes the
  depthwise convolutions much faster on CPU: 163 img/s (width 1.0) and 362 img/s
  (width 0.5) with 1 thread at load ~4.  Training steps (forward + backward + SGD) run
  at roughly a fifth of the forward speed (width 1.0: 21 img/s, 30 with channels_last;
  width 0.5: 50 / 69 img/s; 1 thread, load ~4).
* On a busy 2-core machine one intra-op thread (``torch.set_num_threads(1)``) is faster
  than two.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBlock", "LinearConvBlock", "Bottleneck", "MobileFaceNet", "mobilefacenet"]


def _scaled(channels: int, width: float, divisor: int = 8) -> int:
    """``channels * width`` rounded to the nearest multiple of ``divisor`` (at least one)."""
    value = max(divisor, int(channels * width + divisor / 2) // divisor * divisor)
    # Do not round down by more than 10% (same rule as MobileNetV2).
    if value < 0.9 * channels * width:
        value += divisor
    return value


class ConvBlock(nn.Module):
    """Conv2d (no bias) -> BatchNorm2d -> PReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, padding: int = 0, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.prelu = nn.PReLU(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(self.bn(self.conv(x)))


class LinearConvBlock(nn.Module):
    """Conv2d (no bias) -> BatchNorm2d, without activation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, padding: int = 0, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class Bottleneck(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise (carries the stride), 1x1 project."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 expansion: int = 2) -> None:
        super().__init__()
        hidden = in_channels * expansion
        self.use_residual = stride == 1 and in_channels == out_channels
        # With expansion 1 there is nothing to expand (as in MobileNetV2).
        self.expand = ConvBlock(in_channels, hidden, kernel_size=1) if expansion != 1 else nn.Identity()
        self.depthwise = ConvBlock(hidden, hidden, kernel_size=3, stride=stride, padding=1,
                                   groups=hidden)
        self.project = LinearConvBlock(hidden, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        if self.use_residual:
            out = out + x
        return out


def _make_stage(in_channels: int, out_channels: int, blocks: int,
                first_expansion: int, expansion: int) -> nn.Sequential:
    """One stride-2 bottleneck followed by ``blocks - 1`` stride-1 bottlenecks."""
    layers = [Bottleneck(in_channels, out_channels, stride=2, expansion=first_expansion)]
    for _ in range(1, blocks):
        layers.append(Bottleneck(out_channels, out_channels, stride=1, expansion=expansion))
    return nn.Sequential(*layers)


class MobileFaceNet(nn.Module):
    """MobileFaceNet with named stages ``layer1..layer4`` and a GDC embedding head."""

    def __init__(self, embedding_size: int = 512, dropout: float = 0.0,
                 width: float = 1.0) -> None:
        super().__init__()
        c64 = _scaled(64, width)
        c128 = _scaled(128, width)
        c512 = _scaled(512, width)
        self.conv1 = ConvBlock(3, c64, kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(
            ConvBlock(c64, c64, kernel_size=3, stride=1, padding=1, groups=c64),
        )
        self.layer2 = _make_stage(c64, c64, blocks=3, first_expansion=1, expansion=2)
        self.layer3 = _make_stage(c64, c128, blocks=5, first_expansion=2, expansion=2)
        self.layer4 = _make_stage(c128, c128, blocks=3, first_expansion=2, expansion=2)
        self.conv_sep = ConvBlock(c128, c512, kernel_size=1)
        self.gdc = LinearConvBlock(c512, c512, kernel_size=7, groups=c512)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(c512, embedding_size, bias=False)
        self.features = nn.BatchNorm1d(embedding_size)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.conv_sep(x)
        x = self.gdc(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        x = self.features(x)
        return x


def mobilefacenet(embedding_size: int = 512, dropout: float = 0.0,
                  width: float = 1.0) -> MobileFaceNet:
    return MobileFaceNet(embedding_size=embedding_size, dropout=dropout, width=width)
