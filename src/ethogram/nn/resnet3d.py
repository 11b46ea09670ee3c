"""3D ResNet-18 for clips of frames (the spatial stream of the ``slow`` preset).

Layout as in Hara et al. 2018 / Tran et al. 2018 (R3D-18): a (3, 7, 7) stem with spatial stride 2,
a spatial max pool, four stages of 3x3x3 basic blocks (stages 2-4 stride 2 in time and space) and
global average pooling over time and space; the blocks are :mod:`ethogram.nn.resnet`'s, in 3D. No
pretrained weights are available here.
"""

from __future__ import annotations

import torch
from torch import nn

from ethogram.nn.registry import Backbone, check_model_args
from ethogram.nn.resnet import (
    BasicBlock,
    init_resnet_weights,
    resnet_stages,
    scaled,
    warn_no_pretrained,
)

__all__ = ["ResNet3d", "resnet3d18"]


class ResNet3d(Backbone):
    """3D ResNet on clips ``(B, in_chans, T, H, W)``.

    A 4D input ``(B, T * in_chans, H, W)`` is accepted too and read as frames stacked frame-major
    along channels (``[r0, g0, b0, r1, g1, b1, ...]``), the layout the 2D streams use.

    Parameters
    ----------
    layers
        Blocks per stage.
    in_chans
        Channels per frame.
    num_classes
        Classifier outputs; 0 for a feature extractor.
    width
        Channel width multiplier.
    dropout
        Dropout before the classifier.
    """

    def __init__(
        self,
        layers: tuple[int, int, int, int] = (2, 2, 2, 2),
        in_chans: int = 3,
        num_classes: int = 0,
        width: float = 1.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_chans = in_chans
        stem = scaled(64, width)
        self.conv1 = nn.Conv3d(in_chans, stem, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        stages, in_ch = resnet_stages(BasicBlock, layers, stem, width, dims=3)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.init_head(in_ch, num_classes, dropout)
        init_resnet_weights(self)

    def as_clip(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` as ``(B, in_chans, T, H, W)`` (unstacking a frame-major 4D input)."""
        if x.ndim == 5:
            return x
        if x.ndim == 4 and x.shape[1] % self.in_chans == 0:
            b, c, h, w = x.shape
            return x.reshape(b, c // self.in_chans, self.in_chans, h, w).transpose(1, 2)
        raise ValueError(
            f"expected a clip (B, {self.in_chans}, T, H, W) or stacked frames "
            f"(B, T*{self.in_chans}, H, W), got shape {tuple(x.shape)}"
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Return pooled features ``(B, num_features)`` of a clip (see :meth:`as_clip`)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(self.as_clip(x)))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.pool(x), 1)


def resnet3d18(
    in_chans: int = 3,
    num_classes: int = 0,
    pretrained: bool = False,
    width: float = 1.0,
    dropout: float = 0.0,
) -> ResNet3d:
    """3D ResNet-18 (512 features at width 1); ``in_chans`` is channels per frame."""
    check_model_args("resnet3d18", in_chans, num_classes, width, dropout)
    if pretrained:
        warn_no_pretrained("resnet3d18")
    return ResNet3d((2, 2, 2, 2), in_chans, num_classes, width, dropout)
