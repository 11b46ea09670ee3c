"""Batch augmentation of two-stream inputs in plain torch (CPU or GPU).

One random geometric transform per clip is applied to its RGB stack and its flow stack alike:
horizontal/vertical flips, a rotation, and a zoom-in crop (with a random shift). Flow is a vector
field, so its vectors are transformed too: a horizontal flip negates dx, a vertical flip negates
dy, a rotation rotates (dx, dy), a zoom scales them. Brightness, contrast, colour (per-channel
gain, partial desaturation) and intensity inversion change the RGB stack only: animals differ in
coat colour from one video to the next (a white mouse on a dark floor, a black one on a light
floor), and posture should be learned apart from colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from ethogram.config import TrainSettings

__all__ = ["Augmenter", "geometric_transform", "training_augmenter"]


@dataclass
class Augmenter:
    """Random flips, rotation, crop and brightness/contrast for batches of clips.

    Parameters
    ----------
    hflip, vflip
        Probabilities of a horizontal / vertical flip (top-down videos: both 0.5).
    max_rotation_deg
        Rotation angle drawn uniformly from +-this.
    min_scale
        Zoom-in crop: the crop's side is drawn from ``[min_scale, 1]`` of the frame.
    brightness, contrast
        Additive brightness (in normalized units) and multiplicative contrast jitter amplitudes.
    color
        Per-channel gain jitter amplitude and largest desaturation (blend towards grey).
    invert
        Probability of inverting intensities about the clip's mean (dark animal on a light floor
        becomes a light animal on a dark floor).
    """

    hflip: float = 0.5
    vflip: float = 0.5
    max_rotation_deg: float = 30.0
    min_scale: float = 0.8
    brightness: float = 0.25
    contrast: float = 0.25
    color: float = 0.0
    invert: float = 0.0

    def __call__(
        self,
        rgb: torch.Tensor | None,
        flow: torch.Tensor | None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Augment a batch.

        Parameters
        ----------
        rgb
            Normalized RGB ``(B, 3 * n_rgb, S, S)`` or ``(B, 3, n_rgb, S, S)``, or None.
        flow
            Normalized flow ``(B, 2 * n_flows, s, s)``, channels ``dx, dy`` per field, or None.
        generator
            CPU random generator (for reproducible augmentation).

        Returns
        -------
        tuple of torch.Tensor
            The augmented ``rgb`` and ``flow``, same shapes (None stays None).
        """
        batch = (rgb if rgb is not None else flow).shape[0]

        def uniform(low: float, high: float) -> torch.Tensor:
            return torch.rand(batch, generator=generator) * (high - low) + low

        sx = torch.where(torch.rand(batch, generator=generator) < self.hflip, -1.0, 1.0)
        sy = torch.where(torch.rand(batch, generator=generator) < self.vflip, -1.0, 1.0)
        angle = uniform(-self.max_rotation_deg, self.max_rotation_deg) * (math.pi / 180)
        scale = uniform(self.min_scale, 1.0)
        shift = (1 - scale).unsqueeze(1) * (torch.rand(batch, 2, generator=generator) * 2 - 1)
        matrix = geometric_transform(sx, sy, angle, scale)
        theta = torch.cat([matrix, shift.unsqueeze(2)], dim=2)
        gain = uniform(1 - self.contrast, 1 + self.contrast)
        offset = uniform(-self.brightness, self.brightness)
        # drawn even when unused, so that other settings do not change the geometric draws
        channel_gain = 1 + (torch.rand(batch, 3, generator=generator) * 2 - 1) * self.color
        desaturate = uniform(0.0, self.color)
        sign = torch.where(torch.rand(batch, generator=generator) < self.invert, -1.0, 1.0)

        flow_out = None
        if flow is not None:
            flow_out = _warp(flow, theta.to(flow.device))
            # vectors: output displacement = M^-1 input displacement
            inverse = torch.linalg.inv(matrix).to(flow.device, flow.dtype)
            b, c, h, w = flow_out.shape
            vectors = flow_out.view(b, c // 2, 2, h, w)
            flow_out = torch.einsum("bij,bnjhw->bnihw", inverse, vectors).reshape(b, c, h, w)
        rgb_out = None
        if rgb is not None:
            rgb_out = _warp(rgb, theta.to(rgb.device))
            shape = [batch] + [1] * (rgb.dim() - 1)
            gain, offset = gain.view(shape).to(rgb.device), offset.view(shape).to(rgb.device)
            if self.color > 0:
                rgb_out = _jitter_color(rgb_out, channel_gain, desaturate)
            mean = rgb_out.mean(dim=tuple(range(1, rgb.dim())), keepdim=True)
            gain = gain * sign.view(shape).to(rgb.device)
            rgb_out = (rgb_out - mean) * gain + mean + offset
        return rgb_out, flow_out


def _jitter_color(rgb: torch.Tensor, channel_gain: torch.Tensor, desaturate: torch.Tensor):
    """Scale each colour channel about its mean and blend towards grey, per clip.

    ``rgb`` is ``(B, 3 * n, S, S)`` (channels r, g, b per frame) or ``(B, 3, n, S, S)``.
    """
    b = rgb.shape[0]
    frame_major = rgb.dim() == 4
    x = rgb.view(b, -1, 3, *rgb.shape[-2:]) if frame_major else rgb.transpose(1, 2)
    mean = x.mean(dim=(-2, -1), keepdim=True)
    x = (x - mean) * channel_gain.view(b, 1, 3, 1, 1).to(x) + mean
    grey = x.mean(dim=2, keepdim=True)
    x = x + (grey - x) * desaturate.view(b, 1, 1, 1, 1).to(x)
    return x.reshape(rgb.shape) if frame_major else x.transpose(1, 2).contiguous()


def geometric_transform(
    sx: torch.Tensor, sy: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Matrices ``(B, 2, 2)`` mapping output to input coordinates: rotation @ scale @ flips."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    flips = torch.diag_embed(torch.stack([sx, sy], -1))
    return rotation @ flips * scale.view(-1, 1, 1)


def _warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample ``x`` ``(B, C, H, W)`` or ``(B, C, T, H, W)`` with affine ``theta`` (B, 2, 3)."""
    shape = x.shape
    flat = x.reshape(shape[0], -1, shape[-2], shape[-1])
    grid = F.affine_grid(theta.to(flat.dtype), list(flat.shape), align_corners=False)
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.reshape(shape)


def training_augmenter(train: TrainSettings) -> Augmenter | None:
    """The batch augmentation of the feature stage, from the ``train`` settings.

    Parameters
    ----------
    train
        ``settings.train``: ``augment`` turns augmentation on; ``augment_rotation`` (degrees
        either way), ``augment_color`` and ``augment_invert`` set its amplitudes.

    Returns
    -------
    Augmenter or None
        None when ``train.augment`` is false.
    """
    if not train.augment:
        return None
    return Augmenter(
        max_rotation_deg=train.augment_rotation,
        color=train.augment_color,
        invert=train.augment_invert,
    )
