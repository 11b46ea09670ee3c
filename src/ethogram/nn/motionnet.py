"""MotionNet flow generators of hidden two-stream networks (Zhu et al. 2017; DeepEthogram).

A stack of ``num_images`` RGB frames goes in, ``num_images - 1`` flow fields come out at several
scales, finest first. Three architectures:

- :class:`TinyMotionNet`: 4 encoder convolutions, flows at 1/2, 1/4, 1/8 of the input size.
- :class:`MotionNet`: the deeper FlowNetS-like network, flows at 1/2 ... 1/32.
- :class:`TinyMotionNet3D`: TinyMotionNet with 3D convolutions over time, flows at 1/2, 1/4, 1/8.

Input: float frames in ``[0, 1]``. 2D networks take the frames concatenated on channels,
``(B, 3 * N, H, W)`` (frame 0's RGB first); the 3D network takes ``(B, 3, N, H, W)``. Use
:meth:`MotionNetBase.input_from_stack` to turn a ``(B, N, 3, H, W)`` stack into either layout.

Output: a list of tensors ``(B, 2 * (N - 1), h, w)``, finest first; channels ``2k`` and ``2k + 1``
are dx and dy of the flow from frame ``k`` to frame ``k + 1`` in pixels per frame at that output's
resolution ``(h, w)``. Coarser flows are refined residually: each finer flow is the upsampled
coarser flow plus a predicted correction, so all scales agree in meaning.

Build by name with :func:`build_motionnet`::

    net = build_motionnet("TinyMotionNet", num_images=11)
    flows = net(net.input_from_stack(stack))   # stack: (B, 11, 3, H, W) in [0, 1]
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ethogram.errors import ConfigError

__all__ = [
    "MOTIONNETS",
    "MotionNet",
    "MotionNetBase",
    "TinyMotionNet",
    "TinyMotionNet3D",
    "build_motionnet",
    "resize_flow",
]


def resize_flow(flow: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize flows ``(B, 2F, h, w)`` to ``size`` (bilinear), rescaling them to the new pixels.

    Parameters
    ----------
    flow
        Flow fields with interleaved dx, dy channels, in pixels at their resolution.
    size
        Target ``(height, width)``.

    Returns
    -------
    torch.Tensor
        ``(B, 2F, *size)`` in pixels at the new resolution.
    """
    h, w = flow.shape[-2:]
    if (h, w) == tuple(size):
        return flow
    out = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    scale = torch.tensor([size[1] / w, size[0] / h], dtype=flow.dtype, device=flow.device)
    n_fields = flow.shape[1] // 2
    return out * scale.repeat(n_fields).view(1, -1, 1, 1)


def _conv(c_in: int, c_out: int, kernel: Any = 3, stride: Any = 1, dims: int = 2) -> nn.Sequential:
    conv_cls, bn_cls = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
    if isinstance(kernel, int):
        kernel = (kernel,) * dims
    padding = tuple(k // 2 for k in kernel)
    return nn.Sequential(
        conv_cls(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
        bn_cls(c_out),
        nn.LeakyReLU(0.1, inplace=True),
    )


def _flow_head(c_in: int, c_out: int, kernel: Any = 3, dims: int = 2) -> nn.Module:
    conv_cls = nn.Conv2d if dims == 2 else nn.Conv3d
    if isinstance(kernel, int):
        kernel = (kernel,) * dims
    padding = tuple(0 if k == 2 else k // 2 for k in kernel)
    head = conv_cls(c_in, c_out, kernel, padding=padding)
    # start near zero flow, so early training does not warp frames wildly
    nn.init.normal_(head.weight, std=1e-3)
    nn.init.zeros_(head.bias)
    return head


def _interpolate(x: Tensor, size: tuple[int, ...]) -> Tensor:
    mode = "bilinear" if x.dim() == 4 else "trilinear"
    return F.interpolate(x, size=size, mode=mode, align_corners=False)


class MotionNetBase(nn.Module):
    """Shared behaviour: input layout, normalization, the architecture description."""

    arch = "MotionNetBase"
    layout = "channels"  # or "3d"

    def __init__(self, num_images: int = 11, channel_base: int = 64) -> None:
        super().__init__()
        if num_images < 2:
            raise ConfigError(f"{self.arch}: num_images must be at least 2, got {num_images}")
        self.num_images = num_images
        self.num_flows = num_images - 1
        self.channel_base = channel_base

    def config(self) -> dict[str, Any]:
        """Return the constructor arguments (saved with checkpoints)."""
        return {
            "arch": self.arch,
            "num_images": self.num_images,
            "channel_base": self.channel_base,
        }

    def input_from_stack(self, stack: Tensor) -> Tensor:
        """Turn a stack ``(B, N, 3, H, W)`` into this network's input layout."""
        b, n, c, h, w = stack.shape
        if n != self.num_images:
            raise ConfigError(f"{self.arch} expects stacks of {self.num_images} frames, got {n}")
        if self.layout == "3d":
            return stack.transpose(1, 2)
        return stack.reshape(b, n * c, h, w)

    @staticmethod
    def _normalize(x: Tensor) -> Tensor:
        return (x - 0.5) / 0.25


class TinyMotionNet(MotionNetBase):
    """TinyMotionNet: a small encoder-decoder, flows at 1/2, 1/4 and 1/8 of the input size.

    Parameters
    ----------
    num_images
        Frames per input stack (DeepEthogram: 11).
    channel_base
        Channels of the first layer; later layers use 2x and 4x.
    """

    arch = "TinyMotionNet"

    def __init__(self, num_images: int = 11, channel_base: int = 64) -> None:
        super().__init__(num_images, channel_base)
        c0, c1, c2 = channel_base, 2 * channel_base, 4 * channel_base
        n_out = 2 * self.num_flows
        self.conv1 = _conv(3 * num_images, c0, 7)
        self.conv2 = _conv(c0, c1, 5, stride=2)
        self.conv3 = _conv(c1, c2, 3, stride=2)
        self.conv4 = _conv(c2, c1, 3, stride=2)
        self.flow4 = _flow_head(c1, n_out)
        self.up3 = _conv(c1, c1 // 2)
        self.iconv3 = _conv(c2 + c1 // 2 + n_out, c1)
        self.flow3 = _flow_head(c1, n_out)
        self.up2 = _conv(c1, c0 // 2)
        self.iconv2 = _conv(c1 + c0 // 2 + n_out, c0)
        self.flow2 = _flow_head(c0, n_out)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return flows ``[1/2, 1/4, 1/8]`` of the input size, each ``(B, 2(N-1), h, w)``."""
        x = self._normalize(x)
        out1 = self.conv1(x)
        out2 = self.conv2(out1)
        out3 = self.conv3(out2)
        out4 = self.conv4(out3)
        flows = [self.flow4(out4)]
        for skip, up, iconv, head in (
            (out3, self.up3, self.iconv3, self.flow3),
            (out2, self.up2, self.iconv2, self.flow2),
        ):
            size = skip.shape[-2:]
            coarse = resize_flow(flows[-1], size)
            feat = up(_interpolate(out4, size))
            feat = iconv(torch.cat([skip, feat, coarse], dim=1))
            flows.append(coarse + head(feat))
            out4 = feat
        return flows[::-1]


class MotionNet(MotionNetBase):
    """MotionNet (Zhu et al.): a FlowNetS-like encoder-decoder, flows at 1/2 ... 1/32.

    Parameters
    ----------
    num_images
        Frames per input stack (DeepEthogram: 11).
    channel_base
        Channels of the first layer (64 as in the paper); deeper layers up to 16x.
    """

    arch = "MotionNet"

    def __init__(self, num_images: int = 11, channel_base: int = 64) -> None:
        super().__init__(num_images, channel_base)
        b = channel_base
        widths = [b, 2 * b, 4 * b, 8 * b, 8 * b, 16 * b]  # levels 1..6 (level 1 at full size)
        n_out = 2 * self.num_flows
        encoder = []
        c_in = 3 * num_images
        for level, width in enumerate(widths):
            encoder.append(
                nn.Sequential(
                    _conv(c_in, width, 3, stride=1 if level == 0 else 2), _conv(width, width)
                )
            )
            c_in = width
        self.encoder = nn.ModuleList(encoder)
        self.head6 = _flow_head(widths[5], n_out)
        ups, iconvs, heads = [], [], []
        c_dec = widths[5]
        for level in (4, 3, 2, 1):  # decoder levels 5, 4, 3, 2 (indices into widths)
            skip = widths[level]
            ups.append(_conv(c_dec, skip // 2))
            iconvs.append(_conv(skip + skip // 2 + n_out, skip // 2))
            heads.append(_flow_head(skip // 2, n_out))
            c_dec = skip // 2
        self.ups = nn.ModuleList(ups)
        self.iconvs = nn.ModuleList(iconvs)
        self.heads = nn.ModuleList(heads)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return flows ``[1/2, 1/4, 1/8, 1/16, 1/32]`` of the input size."""
        x = self._normalize(x)
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
        flows = [self.head6(x)]
        feat = x
        for i, level in enumerate((4, 3, 2, 1)):
            skip = skips[level]
            size = skip.shape[-2:]
            coarse = resize_flow(flows[-1], size)
            up = self.ups[i](_interpolate(feat, size))
            feat = self.iconvs[i](torch.cat([skip, up, coarse], dim=1))
            flows.append(coarse + self.heads[i](feat))
        return flows[::-1]


class TinyMotionNet3D(MotionNetBase):
    """TinyMotionNet with 3D convolutions: input ``(B, 3, N, H, W)``, flows at 1/2, 1/4, 1/8.

    The encoder keeps the time axis; each flow head convolves pairs of neighbouring time steps
    (temporal kernel 2), turning N frame features into N - 1 flows.
    """

    arch = "TinyMotionNet3D"
    layout = "3d"

    def __init__(self, num_images: int = 11, channel_base: int = 32) -> None:
        super().__init__(num_images, channel_base)
        c0, c1, c2 = channel_base, 2 * channel_base, 4 * channel_base
        self.conv1 = _conv(3, c0, (3, 7, 7), dims=3)
        self.conv2 = _conv(c0, c1, (3, 5, 5), stride=(1, 2, 2), dims=3)
        self.conv3 = _conv(c1, c2, 3, stride=(1, 2, 2), dims=3)
        self.conv4 = _conv(c2, c1, 3, stride=(1, 2, 2), dims=3)
        self.flow4 = _flow_head(c1, 2, (2, 3, 3), dims=3)
        self.up3 = _conv(c1, c1 // 2, dims=3)
        self.iconv3 = _conv(c2 + c1 // 2 + 2, c1, dims=3)
        self.flow3 = _flow_head(c1, 2, (2, 3, 3), dims=3)
        self.up2 = _conv(c1, c0 // 2, dims=3)
        self.iconv2 = _conv(c1 + c0 // 2 + 2, c0, dims=3)
        self.flow2 = _flow_head(c0, 2, (2, 3, 3), dims=3)

    @staticmethod
    def _to_channels(flow: Tensor) -> Tensor:
        # (B, 2, N-1, h, w) -> (B, 2(N-1), h, w) with interleaved dx, dy
        b, _, t, h, w = flow.shape
        return flow.transpose(1, 2).reshape(b, 2 * t, h, w)

    @staticmethod
    def _to_volume(flow: Tensor) -> Tensor:
        # (B, 2(N-1), h, w) -> (B, 2, N, h, w); the last time step repeats so it aligns with frames
        b, c, h, w = flow.shape
        volume = flow.view(b, c // 2, 2, h, w).transpose(1, 2)
        return F.pad(volume, (0, 0, 0, 0, 0, 1), mode="replicate")

    def forward(self, x: Tensor) -> list[Tensor]:
        """Return flows ``[1/2, 1/4, 1/8]`` of the input size, each ``(B, 2(N-1), h, w)``."""
        x = self._normalize(x)
        out1 = self.conv1(x)
        out2 = self.conv2(out1)
        out3 = self.conv3(out2)
        out4 = self.conv4(out3)
        flows = [self._to_channels(self.flow4(out4))]
        for skip, up, iconv, head in (
            (out3, self.up3, self.iconv3, self.flow3),
            (out2, self.up2, self.iconv2, self.flow2),
        ):
            size = skip.shape[-3:]
            coarse = resize_flow(flows[-1], size[1:])
            feat = up(_interpolate(out4, size))
            feat = iconv(torch.cat([skip, feat, self._to_volume(coarse)], dim=1))
            flows.append(coarse + self._to_channels(head(feat)))
            out4 = feat
        return flows[::-1]


MOTIONNETS: dict[str, type[MotionNetBase]] = {
    "TinyMotionNet": TinyMotionNet,
    "MotionNet": MotionNet,
    "TinyMotionNet3D": TinyMotionNet3D,
}


def build_motionnet(
    arch: str, num_images: int = 11, channel_base: int | None = None
) -> MotionNetBase:
    """Build a flow generator by name.

    Parameters
    ----------
    arch
        ``TinyMotionNet``, ``MotionNet`` or ``TinyMotionNet3D``.
    num_images
        Frames per input stack; the network predicts ``num_images - 1`` flows.
    channel_base
        Width of the first layer (default: the architecture's own).

    Returns
    -------
    MotionNetBase
        The network, randomly initialized.
    """
    if arch not in MOTIONNETS:
        raise ConfigError(f"unknown flow network '{arch}', expected one of {list(MOTIONNETS)}")
    kwargs: dict[str, Any] = {"num_images": num_images}
    if channel_base is not None:
        kwargs["channel_base"] = channel_base
    return MOTIONNETS[arch](**kwargs)
