"""2D ResNets (He et al. 2016) with any number of input channels and a channel width multiplier.

The layout follows the standard ImageNet ResNet (7x7 stride-2 stem, max pool, four stages, global
average pool), so features are spatially pooled and inputs as small as 32x32 work. There are no
pretrained weights here: ``pretrained=True`` warns and initializes randomly.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ethogram.nn.registry import Backbone, check_model_args

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "init_resnet_weights",
    "resnet18",
    "resnet34",
    "resnet50",
    "scaled",
    "warn_no_pretrained",
]


def scaled(channels: int, width: float, divisor: int = 8) -> int:
    """Return ``channels * width`` rounded to a multiple of ``divisor`` (at least ``divisor``)."""
    return max(divisor, int(round(channels * width / divisor)) * divisor)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection."""

    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, ch, stride)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), with a residual connection."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = ch * self.expansion
        self.conv1 = nn.Conv2d(in_ch, ch, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.conv3 = nn.Conv2d(ch, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, out_ch, stride)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.bn3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.downsample(x))


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 1, stride, bias=False),
        nn.BatchNorm2d(out_ch),
    )


class ResNet(Backbone):
    """ResNet on ``(B, in_chans, H, W)`` inputs.

    Parameters
    ----------
    block
        :class:`BasicBlock` or :class:`Bottleneck`.
    layers
        Blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
    in_chans
        Input channels (3 for RGB, ``2 * n_flows`` for stacked optical flow).
    num_classes
        Classifier outputs; 0 for a feature extractor.
    width
        Channel width multiplier.
    dropout
        Dropout before the classifier.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        in_chans: int = 3,
        num_classes: int = 0,
        width: float = 1.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_chans = in_chans
        stem = scaled(64, width)
        self.conv1 = nn.Conv2d(in_chans, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = stem
        stages = []
        for i, n_blocks in enumerate(layers):
            ch = scaled(64 * 2**i, width)
            blocks = []
            for j in range(n_blocks):
                blocks.append(block(in_ch, ch, stride=2 if (i > 0 and j == 0) else 1))
                in_ch = ch * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.init_head(in_ch, num_classes, dropout)
        init_resnet_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Return pooled features ``(B, num_features)`` of images ``(B, in_chans, H, W)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.pool(x), 1)


def init_resnet_weights(model: nn.Module) -> None:
    """He init for convolutions, unit BN, and zero last BN of each residual branch.

    Zero-initialized residual branches make each block start as the identity, which helps
    training from scratch (Goyal et al. 2017).
    """
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
    for m in model.modules():
        if hasattr(m, "zero_init_last"):
            m.zero_init_last()


def warn_no_pretrained(name: str) -> None:
    """Warn (once per call) that ``name`` has no pretrained weights here."""
    warnings.warn(
        f"{name}: no pretrained weights are available; using random initialization",
        UserWarning,
        stacklevel=3,
    )


def _make(
    name: str,
    block: type[BasicBlock] | type[Bottleneck],
    layers: tuple[int, int, int, int],
    in_chans: int,
    num_classes: int,
    pretrained: bool,
    width: float,
    dropout: float,
) -> ResNet:
    check_model_args(name, in_chans, num_classes, width, dropout)
    if pretrained:
        warn_no_pretrained(name)
    return ResNet(block, layers, in_chans, num_classes, width, dropout)


def resnet18(
    in_chans: int = 3,
    num_classes: int = 0,
    pretrained: bool = False,
    width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:
    """ResNet-18 (512 features at width 1)."""
    return _make(
        "resnet18", BasicBlock, (2, 2, 2, 2), in_chans, num_classes, pretrained, width, dropout
    )


def resnet34(
    in_chans: int = 3,
    num_classes: int = 0,
    pretrained: bool = False,
    width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:
    """ResNet-34 (512 features at width 1)."""
    return _make(
        "resnet34", BasicBlock, (3, 4, 6, 3), in_chans, num_classes, pretrained, width, dropout
    )


def resnet50(
    in_chans: int = 3,
    num_classes: int = 0,
    pretrained: bool = False,
    width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:
    """ResNet-50 (2048 features at width 1)."""
    return _make(
        "resnet50", Bottleneck, (3, 4, 6, 3), in_chans, num_classes, pretrained, width, dropout
    )
