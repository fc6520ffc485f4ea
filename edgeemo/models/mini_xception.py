"""mini-Xception (Arriaga et al., 2017): the classic 64x64 grayscale FER network."""

from __future__ import annotations

import torch
from torch import nn

def _separable(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, in_ch, 3, 1, 1, groups=in_ch, bias=False),
        nn.Conv2d(in_ch, out_ch, 1, bias=False),
    )


class XceptionModule(nn.Module):
    """Two separable convs and a strided max-pool, added to a strided 1x1 projection."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, 2, bias=False), nn.BatchNorm2d(out_ch))
        self.body = nn.Sequential(
            _separable(in_ch, out_ch),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            _separable(out_ch, out_ch),
            nn.BatchNorm2d(out_ch),
            nn.MaxPool2d(3, 2, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.residual(x)


class MiniXception(nn.Module):
    def __init__(self, num_classes: int = 5, in_channels: int = 1) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
        )
        self.modules_ = nn.Sequential(*(XceptionModule(i, o) for i, o in ((8, 16), (16, 32), (32, 64), (64, 128))))
        self.head = nn.Conv2d(128, num_classes, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.modules_(self.stem(x)))
        return torch.softmax(x.mean(dim=(2, 3), keepdim=True).flatten(1), dim=1)


def mini_xception(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    return MiniXception(num_classes, in_channels)
