"""Hidden two-stream fusion: a spatial CNN on RGB and a motion CNN on stacked flow, fused.

Each stream is a feature extractor (``num_classes=0``, with ``num_features``) and gets its own
linear head, so each can be trained alone first and then both together (DeepEthogram's
curriculum); :meth:`HiddenTwoStream.set_trainable` freezes a stream.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from ethogram.errors import ConfigError

__all__ = [
    "FUSIONS",
    "HiddenTwoStream",
    "TwoStreamOutput",
    "mirror_averaged",
    "mirror_inputs",
    "predict_two_stream",
]

FUSIONS = ("average", "concatenate", "weighted")


class TwoStreamOutput(NamedTuple):
    """Outputs of :class:`HiddenTwoStream`; a stream's fields are None when it was not run."""

    logits: torch.Tensor
    spatial_logits: torch.Tensor | None
    flow_logits: torch.Tensor | None
    spatial_features: torch.Tensor | None
    flow_features: torch.Tensor | None


class HiddenTwoStream(nn.Module):
    """Two feature extractors with per-stream heads and a fusion of their outputs.

    Parameters
    ----------
    spatial
        Network on RGB frames with ``num_features`` and ``forward_features``.
    motion
        Network on stacked optical flow, same interface.
    num_classes
        Behaviors (background included).
    fusion
        ``"average"``: ``(1 - flow_weight) * spatial_logits + flow_weight * flow_logits``;
        ``"weighted"``: per-class weights of the two streams, learned (softmax over the
        streams, initialized at ``1 - flow_weight, flow_weight``); ``"concatenate"``: a linear
        layer on the concatenated features.
    flow_weight
        Weight of the flow stream for ``"average"`` (and the start of ``"weighted"``).
    dropout
        Dropout on features before every head.
    """

    def __init__(
        self,
        spatial: nn.Module,
        motion: nn.Module,
        num_classes: int,
        fusion: str = "average",
        flow_weight: float = 0.5,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ConfigError(f"fusion must be one of {', '.join(FUSIONS)}, got '{fusion}'")
        if not 0.0 <= flow_weight <= 1.0:
            raise ConfigError(f"flow_weight must be in [0, 1], got {flow_weight}")
        if num_classes < 1:
            raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
        for name, net in (("spatial", spatial), ("motion", motion)):
            if not hasattr(net, "num_features") or not hasattr(net, "forward_features"):
                raise ConfigError(
                    f"{name} stream {type(net).__name__} lacks num_features/forward_features"
                )
        self.spatial = spatial
        self.motion = motion
        self.num_classes = num_classes
        self.fusion = fusion
        self.flow_weight = flow_weight
        self.drop = nn.Dropout(dropout)
        self.spatial_head = nn.Linear(spatial.num_features, num_classes)
        self.flow_head = nn.Linear(motion.num_features, num_classes)
        if fusion == "weighted":
            w = min(max(flow_weight, 1e-3), 1 - 1e-3)
            init = torch.tensor([math.log(1 - w), math.log(w)]).repeat(num_classes, 1).T
            self.fusion_weights = nn.Parameter(init.contiguous())  # (2, num_classes)
        elif fusion == "concatenate":
            self.fusion_head = nn.Linear(spatial.num_features + motion.num_features, num_classes)
        self._trainable = {"spatial": True, "motion": True}

    @property
    def num_features(self) -> int:
        """Size of the concatenated spatial and flow features."""
        return self.spatial.num_features + self.motion.num_features

    def set_trainable(self, *, spatial: bool = True, motion: bool = True) -> None:
        """Freeze or unfreeze each stream (network and its head).

        A frozen stream gets ``requires_grad=False`` and stays in eval mode (its batch-norm
        statistics no longer change), even after ``model.train()``. Fusion parameters stay
        trainable.
        """
        self._trainable = {"spatial": spatial, "motion": motion}
        for flag, modules in (
            (spatial, (self.spatial, self.spatial_head)),
            (motion, (self.motion, self.flow_head)),
        ):
            for module in modules:
                for p in module.parameters():
                    p.requires_grad_(flag)
        self.train(self.training)

    def train(self, mode: bool = True) -> HiddenTwoStream:
        """Set training mode; frozen streams stay in eval mode."""
        super().train(mode)
        if not self._trainable["spatial"]:
            self.spatial.eval()
        if not self._trainable["motion"]:
            self.motion.eval()
        return self

    def forward(self, rgb: torch.Tensor | None, flow: torch.Tensor | None) -> TwoStreamOutput:
        """Run both streams and fuse.

        Parameters
        ----------
        rgb
            Input of the spatial stream, e.g. ``(B, 3 * n_rgb, H, W)``; None to run only the
            motion stream (then ``logits`` are the flow logits).
        flow
            Input of the motion stream, e.g. ``(B, 2 * n_flows, H, W)``; None to run only the
            spatial stream.

        Returns
        -------
        TwoStreamOutput
            Fused logits ``(B, K)``, per-stream logits and features.
        """
        if rgb is None and flow is None:
            raise ValueError("HiddenTwoStream needs rgb, flow or both")
        s_feat = self.spatial.forward_features(rgb) if rgb is not None else None
        f_feat = self.motion.forward_features(flow) if flow is not None else None
        return self.fuse(s_feat, f_feat)

    def fuse(self, s_feat: torch.Tensor | None, f_feat: torch.Tensor | None) -> TwoStreamOutput:
        """Heads and fusion of the two streams' features (either may be None, not both)."""
        s_logits = self.spatial_head(self.drop(s_feat)) if s_feat is not None else None
        f_logits = self.flow_head(self.drop(f_feat)) if f_feat is not None else None
        if s_logits is None:
            logits = f_logits
        elif f_logits is None:
            logits = s_logits
        elif self.fusion == "average":
            logits = (1.0 - self.flow_weight) * s_logits + self.flow_weight * f_logits
        elif self.fusion == "weighted":
            w = torch.softmax(self.fusion_weights, dim=0)
            logits = w[0] * s_logits + w[1] * f_logits
        else:
            logits = self.fusion_head(self.drop(torch.cat([s_feat, f_feat], dim=1)))
        return TwoStreamOutput(logits, s_logits, f_logits, s_feat, f_feat)


def mirror_inputs(
    rgb: torch.Tensor | None, flow: torch.Tensor | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Left-right mirror images of two-stream inputs.

    Frames are flipped along their width (the last axis, 2D or 3D inputs alike); flow fields
    are flipped the same way and their horizontal components (``dx``, the even channels) change
    sign, so the mirrored flow is the motion of the mirrored frames.

    Parameters
    ----------
    rgb
        ``(B, C, H, W)`` or ``(B, C, T, H, W)``, or None.
    flow
        ``(B, 2 * n_flows, H, W)``, channels ``dx, dy`` per field, or None.

    Returns
    -------
    tuple of torch.Tensor
        Mirrored ``rgb`` and ``flow`` (None stays None).
    """
    rgb_m = torch.flip(rgb, dims=[-1]) if rgb is not None else None
    flow_m = None
    if flow is not None:
        sign = torch.ones(flow.shape[1], 1, 1, device=flow.device, dtype=flow.dtype)
        sign[0::2] = -1.0
        flow_m = torch.flip(flow, dims=[-1]) * sign
    return rgb_m, flow_m


MIRROR_MODES = ("both", "spatial", "motion", "none")
"""Values of ``features.mirror_average``: the streams that also see the mirror images."""


def mirror_averaged(
    model: HiddenTwoStream,
    rgb: torch.Tensor | None,
    flow: torch.Tensor | None,
    streams: str = "both",
) -> TwoStreamOutput:
    """Outputs of ``model`` on the inputs and on their mirror images, averaged.

    Top-down videos look equally plausible mirrored, so a frame's two views are two estimates
    of the same thing; their mean (logits and features alike) is steadier on videos the model
    has not seen. Costs a second forward pass of each mirrored stream.

    Parameters
    ----------
    model
        A :class:`HiddenTwoStream` (in eval mode for predictions).
    rgb, flow
        As for :meth:`HiddenTwoStream.forward`.
    streams
        One of :data:`MIRROR_MODES`: which streams also run on the mirror images. A stream
        left out runs once and its features count for both views, so with ``"motion"`` the
        spatial stream runs once (about a third less work at the ``fast`` preset's sizes).
        The heads and fusion are linear, so ``"both"`` equals averaging two whole passes.

    Returns
    -------
    TwoStreamOutput
        Field-wise means of the two outputs (None fields stay None).
    """
    if streams not in MIRROR_MODES:
        raise ValueError(f"streams must be one of {MIRROR_MODES}, got {streams!r}")
    # only the inputs of the mirrored streams are flipped (a stack of flow fields is large)
    rgb_m, flow_m = mirror_inputs(
        rgb if streams in ("both", "spatial") else None,
        flow if streams in ("both", "motion") else None,
    )
    s_feat = model.spatial.forward_features(rgb) if rgb is not None else None
    f_feat = model.motion.forward_features(flow) if flow is not None else None
    s_feat_m = model.spatial.forward_features(rgb_m) if rgb_m is not None else s_feat
    f_feat_m = model.motion.forward_features(flow_m) if flow_m is not None else f_feat
    direct, mirrored = model.fuse(s_feat, f_feat), model.fuse(s_feat_m, f_feat_m)
    return TwoStreamOutput(
        *(None if a is None else (a + b) / 2 for a, b in zip(direct, mirrored, strict=True))
    )


def predict_two_stream(
    model: HiddenTwoStream,
    rgb: torch.Tensor | None,
    flow: torch.Tensor | None,
    mirror: bool | str = False,
) -> TwoStreamOutput:
    """``model(rgb, flow)``, or its :func:`mirror_averaged` outputs.

    ``mirror`` is ``features.mirror_average``: one of :data:`MIRROR_MODES` (``True`` is
    ``"both"``, ``False`` is ``"none"``).
    """
    streams = {True: "both", False: "none"}[mirror] if isinstance(mirror, bool) else mirror
    if streams == "none":
        return model(rgb, flow)
    return mirror_averaged(model, rgb, flow, streams)
