"""2D ResNets (He et al. 2016) with any number of input channels and a channel width multiplier.

The layout follows the standard ImageNet ResNet (7x7 stride-2 stem, max pool, four stages, global
average pool), so features are spatially pooled and inputs as small as 32x32 work. There are no
pretrained weights here: ``pretrained=True`` warns and initializes randomly.
"""

from __future__ import annotations

import warnings
from functools import partial

import torch
from torch import nn

from ethogram.nn.registry import Backbone, check_model_args

__all__ = [
    "RESNETS",
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "init_resnet_weights",
    "resnet",
    "resnet_stages",
    "resnet18",
    "resnet34",
    "resnet50",
    "scaled",
    "warn_no_pretrained",
]


def scaled(channels: int, width: float, divisor: int = 8) -> int:
    """Return ``channels * width`` rounded to a multiple of ``divisor`` (at least ``divisor``)."""
    return max(divisor, int(round(channels * width / divisor)) * divisor)


# Convolution and batch norm of 2D (images) and 3D (clips) networks.
_LAYERS: dict[int, tuple[type[nn.Module], type[nn.Module]]] = {
    2: (nn.Conv2d, nn.BatchNorm2d),
    3: (nn.Conv3d, nn.BatchNorm3d),
}


class BasicBlock(nn.Module):
    """Two 3x3 (``dims=3``: 3x3x3) convolutions with a residual connection."""

    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int = 1, dims: int = 2) -> None:
        super().__init__()
        conv, norm = _LAYERS[dims]
        self.conv1 = conv(in_ch, ch, 3, stride, 1, bias=False)
        self.bn1 = norm(ch)
        self.conv2 = conv(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = norm(ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, ch, stride, dims)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), with a residual connection."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int = 1, dims: int = 2) -> None:
        super().__init__()
        conv, norm = _LAYERS[dims]
        out_ch = ch * self.expansion
        self.conv1 = conv(in_ch, ch, 1, bias=False)
        self.bn1 = norm(ch)
        self.conv2 = conv(ch, ch, 3, stride, 1, bias=False)
        self.bn2 = norm(ch)
        self.conv3 = conv(ch, out_ch, 1, bias=False)
        self.bn3 = norm(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, out_ch, stride, dims)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.bn3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.downsample(x))


def _shortcut(in_ch: int, out_ch: int, stride: int, dims: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    conv, norm = _LAYERS[dims]
    return nn.Sequential(conv(in_ch, out_ch, 1, stride, bias=False), norm(out_ch))


def resnet_stages(
    block: type[BasicBlock] | type[Bottleneck],
    layers: tuple[int, int, int, int],
    in_ch: int,
    width: float,
    dims: int = 2,
) -> tuple[list[nn.Sequential], int]:
    """The four stages of a ResNet after its stem, and their output channels.

    Stage ``i`` has ``layers[i]`` blocks of ``64 * 2**i`` channels (scaled by ``width``); the
    first block of stages 2-4 has stride 2.
    """
    stages = []
    for i, n_blocks in enumerate(layers):
        ch = scaled(64 * 2**i, width)
        blocks = []
        for j in range(n_blocks):
            blocks.append(block(in_ch, ch, stride=2 if (i > 0 and j == 0) else 1, dims=dims))
            in_ch = ch * block.expansion
        stages.append(nn.Sequential(*blocks))
    return stages, in_ch


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
        stages, in_ch = resnet_stages(block, layers, stem, width)
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


# The layouts of He et al. 2016: block and blocks per stage (features at width 1).
RESNETS: dict[str, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),  # 512 features
    "resnet34": (BasicBlock, (3, 4, 6, 3)),  # 512 features
    "resnet50": (Bottleneck, (3, 4, 6, 3)),  # 2048 features
}


def resnet(
    name: str,
    in_chans: int = 3,
    num_classes: int = 0,
    pretrained: bool = False,
    width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet:
    """The ResNet named ``name`` (a key of :data:`RESNETS`), randomly initialized.

    The registry builds ``resnet18``, ``resnet34`` and ``resnet50`` with it
    (:func:`ethogram.nn.create_model`).
    """
    check_model_args(name, in_chans, num_classes, width, dropout)
    if pretrained:
        warn_no_pretrained(name)
    block, layers = RESNETS[name]
    return ResNet(block, layers, in_chans, num_classes, width, dropout)


resnet18 = partial(resnet, "resnet18")
resnet34 = partial(resnet, "resnet34")
resnet50 = partial(resnet, "resnet50")
