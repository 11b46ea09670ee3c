"""Unsupervised losses for learning optical flow without ground truth (MotionNet training).

Frame ``t`` is reconstructed from frame ``t + 1`` by backward warping with the flow ``flow[t]``
(frame ``t`` at ``x`` is frame ``t + 1`` at ``x + flow[t](x)``); the reconstruction is compared
with frame ``t`` (generalized Charbonnier and SSIM), and the flow is kept smooth (first-order,
optionally edge-aware). Every loss is zero for a perfect warp and grows with misalignment.
:func:`motionnet_loss` sums them over the scales a MotionNet outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

if TYPE_CHECKING:
    from ethogram.config import FlowSettings

CHARBONNIER_ALPHA = 0.45
CHARBONNIER_EPS = 1e-3


def warp(image: Tensor, flow: Tensor) -> Tensor:
    """Backward-warp ``image`` by ``flow``: ``out(x) = image(x + flow(x))`` (bilinear).

    Parameters
    ----------
    image
        ``(B, C, H, W)``, e.g. frame ``t + 1``.
    flow
        ``(B, 2, H, W)``: dx, dy in pixels (e.g. the flow from frame ``t`` to ``t + 1``).

    Returns
    -------
    torch.Tensor
        ``(B, C, H, W)``, the reconstruction of frame ``t``. Samples outside the image take the
        value of the nearest border pixel.
    """
    b, _, h, w = image.shape
    ys = torch.arange(h, dtype=flow.dtype, device=flow.device).view(1, h, 1)
    xs = torch.arange(w, dtype=flow.dtype, device=flow.device).view(1, 1, w)
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    grid = torch.stack(
        [2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1],
        dim=-1,
    )
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def charbonnier(
    x: Tensor, alpha: float = CHARBONNIER_ALPHA, eps: float = CHARBONNIER_EPS
) -> Tensor:
    """Generalized Charbonnier penalty ``(x^2 + eps^2)^alpha - eps^(2 alpha)`` (zero at zero)."""
    return (x * x + eps * eps) ** alpha - eps ** (2 * alpha)


def ssim(x: Tensor, y: Tensor, c1: float = 0.01**2, c2: float = 0.03**2) -> Tensor:
    """Structural similarity map of images in ``[0, 1]`` over 3x3 windows, ``(B, C, H, W)``."""
    pad = (1, 1, 1, 1)
    x = F.pad(x, pad, mode="replicate")
    y = F.pad(y, pad, mode="replicate")
    mu_x = F.avg_pool2d(x, 3, 1)
    mu_y = F.avg_pool2d(y, 3, 1)
    sigma_x = F.avg_pool2d(x * x, 3, 1) - mu_x * mu_x
    sigma_y = F.avg_pool2d(y * y, 3, 1) - mu_y * mu_y
    sigma_xy = F.avg_pool2d(x * y, 3, 1) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (sigma_x + sigma_y + c2)
    return numerator / denominator


def ssim_loss(x: Tensor, y: Tensor) -> Tensor:
    """Mean of ``(1 - SSIM) / 2``: 0 for identical images, up to 1."""
    return ((1 - ssim(x, y)) / 2).clamp(0, 1).mean()


def photometric_loss(target: Tensor, reconstruction: Tensor) -> Tensor:
    """Mean Charbonnier penalty of the difference between two images."""
    return charbonnier(target - reconstruction).mean()


def smoothness_loss(flow: Tensor, image: Tensor | None = None, edge_weight: float = 0.0) -> Tensor:
    """First-order smoothness: Charbonnier penalty of the flow's spatial gradients.

    Parameters
    ----------
    flow
        ``(B, 2F, H, W)`` flows.
    image
        ``(B, C, H, W)`` frame the flow starts from; with ``edge_weight > 0`` the penalty is
        lowered across image edges by ``exp(-edge_weight * |grad image|)``.
    edge_weight
        Strength of the edge-awareness; 0 gives plain first-order smoothness.

    Returns
    -------
    torch.Tensor
        Scalar, zero for a constant flow.
    """
    dx = flow[..., :, 1:] - flow[..., :, :-1]
    dy = flow[..., 1:, :] - flow[..., :-1, :]
    penalty_x = charbonnier(dx)
    penalty_y = charbonnier(dy)
    if image is not None and edge_weight > 0:
        gx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(1, keepdim=True)
        gy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(1, keepdim=True)
        penalty_x = penalty_x * torch.exp(-edge_weight * gx)
        penalty_y = penalty_y * torch.exp(-edge_weight * gy)
    return (penalty_x.mean() + penalty_y.mean()) / 2


def _pairs(frames: Tensor, flow: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Resize frames to the flow's size; return (frame t, frame t+1, flow) flattened over pairs."""
    b, n, c, h, w = frames.shape
    size = tuple(flow.shape[-2:])
    images = frames.reshape(b * n, c, h, w)
    if size != (h, w):
        images = F.interpolate(images, size=size, mode="area")
    images = images.view(b, n, c, *size)
    first = images[:, :-1].reshape(b * (n - 1), c, *size)
    second = images[:, 1:].reshape(b * (n - 1), c, *size)
    return first, second, flow.reshape(b * (n - 1), 2, *size)


def reconstruct(frames: Tensor, flow: Tensor) -> Tensor:
    """Reconstruct frames ``0 .. N-2`` of a stack from their successors and the flows.

    Parameters
    ----------
    frames
        ``(B, N, C, H, W)`` in ``[0, 1]``.
    flow
        ``(B, 2(N-1), h, w)`` flows in pixels at ``(h, w)``.

    Returns
    -------
    torch.Tensor
        ``(B, N-1, C, h, w)`` reconstructions at the flow's resolution.
    """
    b, n, c = frames.shape[:3]
    _, second, pair_flow = _pairs(frames, flow)
    return warp(second, pair_flow).view(b, n - 1, c, *flow.shape[-2:])


def scale_weights(n_scales: int) -> list[float]:
    """Default weights of the scales, finest first: 1, 1/2, 1/4, ..."""
    return [0.5**i for i in range(n_scales)]


def motionnet_loss(
    frames: Tensor,
    flows: Sequence[Tensor],
    settings: FlowSettings,
    weights: Sequence[float] | None = None,
    edge_weight: float = 0.0,
) -> tuple[Tensor, dict[str, float]]:
    """Multi-scale unsupervised loss of a MotionNet's flows.

    At each scale, frames are resized (area) to the flow's resolution, frame ``t`` is
    reconstructed from frame ``t + 1``, and the loss is
    ``(1 - ssim_weight) * charbonnier + ssim_weight * ssim + smooth_weight * smoothness``.

    Parameters
    ----------
    frames
        ``(B, N, 3, H, W)`` float frames in ``[0, 1]``.
    flows
        The network's outputs, finest first, each ``(B, 2(N-1), h, w)`` in pixels at ``(h, w)``.
    settings
        Flow settings (``ssim_weight``, ``smooth_weight``).
    weights
        Weight of each scale, finest first (default :func:`scale_weights`).
    edge_weight
        Edge-awareness of the smoothness term (0: plain first-order smoothness).

    Returns
    -------
    total : torch.Tensor
        Scalar loss to minimize.
    components : dict
        ``{"total", "charbonnier", "ssim", "smoothness"}`` as floats, each summed over scales with
        the scale weights (before the ssim/smooth weighting).
    """
    weights = list(weights) if weights is not None else scale_weights(len(flows))
    if len(weights) != len(flows):
        raise ValueError(f"{len(weights)} scale weights for {len(flows)} flow scales")
    total = frames.new_zeros(())
    parts = {"charbonnier": 0.0, "ssim": 0.0, "smoothness": 0.0}
    for weight, flow in zip(weights, flows, strict=True):
        first, second, pair_flow = _pairs(frames, flow)
        recon = warp(second, pair_flow)
        charb = photometric_loss(first, recon)
        structure = ssim_loss(first, recon) if settings.ssim_weight > 0 else total.new_zeros(())
        smooth = smoothness_loss(pair_flow, first, edge_weight)
        scale_loss = (
            (1 - settings.ssim_weight) * charb
            + settings.ssim_weight * structure
            + settings.smooth_weight * smooth
        )
        total = total + weight * scale_loss
        parts["charbonnier"] += weight * float(charb.detach())
        parts["ssim"] += weight * float(structure.detach())
        parts["smoothness"] += weight * float(smooth.detach())
    parts["total"] = float(total.detach())
    return total, parts
