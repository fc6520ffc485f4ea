"""ResNet-18 and SE-ResNet-18: ImageNet layout, or a small-face stem for 64x64 inputs."""

from __future__ import annotations

import torch
from torch import nn

class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * w


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, se: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.se = SqueezeExcite(out_ch) if se else nn.Identity()
        self.downsample = (
            nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))
            if stride != 1 or in_ch != out_ch
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.se(self.bn2(self.conv2(y)))
        return torch.relu(y + self.downsample(x))


class ResNet(nn.Module):
    """ResNet with BasicBlocks. ``small_input`` swaps the 7x7/2 stem and max-pool for one 3x3/2 conv."""

    def __init__(
        self,
        layers: tuple[int, ...] = (2, 2, 2, 2),
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        se: bool = False,
        output: str = "logits",
    ) -> None:
        super().__init__()
        if small_input:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False),
                nn.BatchNorm2d(64),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
        blocks, in_ch = [], 64
        for i, n in enumerate(layers):
            out_ch = 64 * 2**i
            for j in range(n):
                blocks.append(BasicBlock(in_ch, out_ch, 2 if (j == 0 and i > 0) else 1, se))
                in_ch = out_ch
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(in_ch, num_classes)
        self.softmax = output == "softmax"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x)).mean(dim=(2, 3), keepdim=True).flatten(1)
        x = self.fc(x)
        return torch.softmax(x, dim=1) if self.softmax else x


def resnet18(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    return ResNet((2, 2, 2, 2), num_classes, in_channels, small_input=True, output="softmax")


def se_resnet18(num_classes: int = 5, in_channels: int = 1) -> nn.Module:
    return ResNet((2, 2, 2, 2), num_classes, in_channels, small_input=True, se=True, output="softmax")
