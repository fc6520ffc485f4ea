"""emofast: plain 3x3 convolutions (no depthwise), the shape OpenVINO INT8 speeds up on x86 CPUs without VNNI."""

from __future__ import annotations

import torch
from torch import nn


def _conv(in_ch: int, out_ch: int, stride: int = 1, kernel: int = 3) -> list[nn.Module]:
    padding = 0 if kernel == stride else kernel // 2  # k x k stride k: non-overlapping patches, no padding
    return [nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]


class EmoFast(nn.Module):
    """A stem, then per stage one strided 3x3 conv and ``depth - 1`` more at that width; global average, linear."""

    def __init__(
        self,
        num_classes: int = 5,
        in_channels: int = 1,
        widths: tuple[int, ...] = (32, 64, 128),
        depths: tuple[int, ...] = (2, 2, 2),
        stem: int = 16,
        stem_stride: int = 2,
        dropout: float = 0.2,
        stem_kernel: int = 3,
    ) -> None:
        super().__init__()
        layers = _conv(in_channels, stem, stem_stride, stem_kernel)
        in_ch = stem
        for width, depth in zip(widths, depths):
            layers += _conv(in_ch, width, 2)
            for _ in range(depth - 1):
                layers += _conv(width, width)
            in_ch = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.features(x).mean(dim=(2, 3), keepdim=True).flatten(1))  # keepdim: no TRANSPOSE in TFLite
        return torch.softmax(self.fc(x), dim=1)


def emofast(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    return EmoFast(num_classes, in_channels)


def emofast_pruned(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    """emofast's channels of largest BatchNorm |gamma| (stem 16, widths 32-48-96; scripts/prune_emofast.py), fine-tuned."""
    return EmoFast(num_classes, in_channels, widths=(32, 48, 96), stem=16)
