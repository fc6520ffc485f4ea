"""emolite: a compact face-emotion network designed for a quarter of the retail-0003 budget (<= 16M MACC)."""

from __future__ import annotations

import torch
from torch import nn

class SeparableBlock(nn.Module):
    """Depthwise 3x3 + BN + ReLU, pointwise 1x1 + BN + ReLU; residual when the shape is kept."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, in_ch, 3, stride, 1, groups=in_ch, bias=False),
            nn.BatchNorm2d(in_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_ch, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return torch.relu(x + y if self.residual else y)


class EmoLite(nn.Module):
    def __init__(
        self,
        num_classes: int = 5,
        in_channels: int = 1,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        depths: tuple[int, ...] = (1, 3, 3, 2),
        stem: int = 24,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, stem, 3, 2, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
        ]
        in_ch = stem
        for stage, (width, depth) in enumerate(zip(widths, depths)):
            for i in range(depth):
                layers.append(SeparableBlock(in_ch, width, 2 if (i == 0 and stage > 0) else 1))
                in_ch = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.features(x).mean(dim=(2, 3), keepdim=True).flatten(1))
        return torch.softmax(self.fc(x), dim=1)


def emolite(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    return EmoLite(num_classes, in_channels)
