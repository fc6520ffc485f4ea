"""emonet-resnet10: Intel's emotions-recognition-retail-0003 topology, rebuilt from its IR v7 description."""

from __future__ import annotations

import torch
from torch import nn

class EmoNetBlock(nn.Module):
    """conv3x3(+bias)+ReLU, conv3x3 (no bias), add identity or 1x1 projection, then ScaleShift + ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=True)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.proj = nn.Conv2d(in_ch, out_ch, 1, stride, 0, bias=False) if stride != 1 or in_ch != out_ch else None
        self.bn = nn.BatchNorm2d(out_ch)  # the folded ScaleShift after the Eltwise sum
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        y = self.conv2(self.relu1(self.conv1(x))) + shortcut
        return self.relu2(self.bn(y))


class EmoNetResNet10(nn.Module):
    """0003_EmoNet_ResNet10: 1x3x64x64 BGR 0..255 in, softmax over 5 emotions out."""

    def __init__(self, num_classes: int = 5, in_channels: int = 3) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(in_channels)  # the input ScaleShift
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.stages = nn.Sequential(
            EmoNetBlock(64, 64, 1),
            EmoNetBlock(64, 128, 2),
            EmoNetBlock(128, 256, 2),
            EmoNetBlock(256, 256, 2),
        )
        self.head = nn.Conv2d(256, num_classes, 2, bias=True)  # emotion5_conv1 on the 2x2 map
        self._init_input_norm()

    def _init_input_norm(self) -> None:
        # Untrained, the input ScaleShift maps 0..255 to about [-1, 1], as the folded normalisation does.
        with torch.no_grad():
            self.input_norm.running_mean.fill_(127.5)
            self.input_norm.running_var.fill_(127.5**2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.conv1(self.input_norm(x))))
        x = self.head(self.stages(x))
        return torch.softmax(torch.flatten(x, 1), dim=1)


def emonet_resnet10(num_classes: int = 5, in_channels: int = 3) -> nn.Module:
    return EmoNetResNet10(num_classes, in_channels)
