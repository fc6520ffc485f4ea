"""MobileNetV2 with a width multiplier (Sandler et al., 2018)."""

from __future__ import annotations

import torch
from torch import nn

# expansion t, channels c, repeats n, first stride s
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _divisible(v: float, divisor: int = 8) -> int:
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def _conv_bn(in_ch: int, out_ch: int, k: int, stride: int, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(in_ch, out_ch, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(out_ch)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = in_ch * expand
        layers = [] if expand == 1 else [_conv_bn(in_ch, hidden, 1, 1)]
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden), _conv_bn(hidden, out_ch, 1, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    def __init__(
        self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0, dropout: float = 0.2, output: str = "logits"
    ) -> None:
        super().__init__()
        in_ch = _divisible(32 * width)
        last = _divisible(1280 * max(1.0, width))
        layers = [_conv_bn(in_channels, in_ch, 3, 2)]
        for t, c, n, s in _SETTINGS:
            out_ch = _divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(in_ch, out_ch, s if i == 0 else 1, t))
                in_ch = out_ch
        layers.append(_conv_bn(in_ch, last, 1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, num_classes))
        self.softmax = output == "softmax"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.classifier(self.features(x).mean(dim=(2, 3), keepdim=True).flatten(1))
        return torch.softmax(x, dim=1) if self.softmax else x


def mobilenetv2(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    return MobileNetV2(num_classes, in_channels, width=1.0, output="softmax")
