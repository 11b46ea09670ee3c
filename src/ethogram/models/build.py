"""The networks a model folder's ``config.yaml`` describes, built untrained.

Training builds them to train; inference builds them to fill with the saved weights
(:func:`ethogram.models.checkpoint.load_weights`). Both build them here, so a saved model is read
back into exactly the network that wrote it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ethogram.config import Settings
from ethogram.nn.tgm import SequenceEnsemble

__all__ = [
    "PRETRAINED_ARCHS",
    "SequenceModel",
    "build_feature_model",
    "build_sequence_model",
]

PRETRAINED_ARCHS = ("efficientnet_lite0",)


def build_feature_model(settings: Settings, num_classes: int) -> nn.Module:
    """The :class:`~ethogram.nn.fusion.HiddenTwoStream` that ``settings.features`` describes.

    Its 2D convolutions store their weights channels-last, which is faster on CPU
    (:func:`~ethogram.nn.channels_last_convs`).
    """
    from ethogram.nn import HiddenTwoStream, channels_last_convs, create_model
    from ethogram.nn.registry import is_3d

    feat = settings.features

    def pretrained(arch: str) -> bool:
        return feat.pretrained and arch in PRETRAINED_ARCHS and feat.width == 1.0

    spatial_chans = 3 if is_3d(feat.arch) else 3 * feat.n_rgb
    spatial = create_model(feat.arch, in_chans=spatial_chans, num_classes=0,
                           pretrained=pretrained(feat.arch), width=feat.width)  # fmt: skip
    motion = create_model(feat.flow_arch, in_chans=2 * feat.n_flows, num_classes=0,
                          pretrained=pretrained(feat.flow_arch), width=feat.width)  # fmt: skip
    model = HiddenTwoStream(spatial, motion, num_classes, fusion=feat.fusion,
                            flow_weight=feat.flow_weight, dropout=feat.dropout)  # fmt: skip
    return channels_last_convs(model)


class SequenceModel(nn.Module):
    """A TGM/TGMJ network with the feature normalization of its training set built in.

    ``forward(features (B, T, F), logits (B, T, K)) -> logits (B, T, K)``.
    """

    def __init__(self, net: nn.Module, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def _normalized(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[-1] != self.mean.shape[0]:
            raise ValueError(
                f"expected {self.mean.shape[0]} inputs per frame, got {features.shape[-1]}: "
                "are these the features of the model's feature extractor?"
            )
        return (features - self.mean) / self.std

    def forward(self, features: torch.Tensor, logits: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self._normalized(features), logits)

    def member_logits(
        self, features: torch.Tensor, logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits of each member of an ensemble ``(M, B, T, K)`` (``M = 1`` for one model)."""
        x = self._normalized(features)
        if isinstance(self.net, SequenceEnsemble):
            return self.net.member_logits(x, logits)
        return self.net(x, logits)[None]


def build_sequence_model(
    settings: Settings, in_features: int, num_classes: int, mean=None, std=None
) -> SequenceModel:
    """Create the sequence model named by ``settings.sequence.arch``."""
    from ethogram.nn.tgm import create_sequence_model

    s = settings.sequence
    net = create_sequence_model(
        s.arch,
        in_features=in_features,
        num_classes=num_classes,
        dropout=s.dropout,
        members=s.members,
        n_filters=s.n_filters,
        filter_length=s.filter_length,
        num_layers=s.num_layers,
        hidden=s.hidden,
    )
    mean = np.zeros(in_features, np.float32) if mean is None else mean
    std = np.ones(in_features, np.float32) if std is None else std
    return SequenceModel(net, mean, std)
