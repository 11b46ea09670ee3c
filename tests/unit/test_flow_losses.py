"""Unsupervised flow losses: warping, Charbonnier, SSIM, smoothness, the multi-scale total."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ethogram.config import FlowSettings
from ethogram.flow.losses import (
    charbonnier,
    motionnet_loss,
    photometric_loss,
    reconstruct,
    smoothness_loss,
    ssim_loss,
    warp,
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared, loaded 2-core machine more threads only contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def texture(size: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth random RGB texture (1, 3, size, size) in [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 3, size + 8, size + 8, generator=gen)
    smooth = F.avg_pool2d(F.avg_pool2d(noise, 3, 1), 3, 1)[..., 2:-2, 2:-2]
    return (smooth - smooth.min()) / (smooth.max() - smooth.min())


def smooth_flow(size: int = 32) -> torch.Tensor:
    """A smooth, non-constant flow field (1, 2, size, size) of about a pixel."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    return torch.stack([1.0 + 0.5 * torch.sin(3 * ys), -0.8 + 0.4 * xs])[None]


def perfect_pair(size: int = 32):
    """Frames (t, t+1) and the flow that reconstructs frame t from frame t+1 exactly."""
    second = texture(size)
    flow = smooth_flow(size)
    first = warp(second, flow)
    return first, second, flow


def test_warp_with_zero_flow_returns_the_image():
    image = texture()
    torch.testing.assert_close(warp(image, torch.zeros(1, 2, 32, 32)), image)


def test_warp_samples_the_next_frame_at_x_plus_flow():
    image = texture()
    flow = torch.zeros(1, 2, 32, 32)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # out(x, y) = image(x + 2, y - 1)
    out = warp(image, flow)
    torch.testing.assert_close(out[..., 1:, :-2], image[..., :-1, 2:])


def test_losses_are_zero_for_a_perfect_warp():
    first, second, flow = perfect_pair()
    recon = warp(second, flow)
    assert photometric_loss(first, recon).item() == pytest.approx(0, abs=1e-6)
    assert ssim_loss(first, recon).item() == pytest.approx(0, abs=1e-5)
    constant = torch.full_like(flow, 1.5)
    assert smoothness_loss(constant).item() == pytest.approx(0, abs=1e-7)


def test_photometric_and_ssim_losses_grow_with_misalignment():
    first, second, flow = perfect_pair()
    photometric, structure = [], []
    for error in (0.0, 0.25, 0.5, 1.0, 2.0):
        recon = warp(second, flow + torch.tensor([error, -error]).view(1, 2, 1, 1))
        photometric.append(photometric_loss(first, recon).item())
        structure.append(ssim_loss(first, recon).item())
    assert photometric == sorted(photometric) and len(set(photometric)) == len(photometric)
    assert structure == sorted(structure) and len(set(structure)) == len(structure)
    assert photometric[0] < 1e-6 < photometric[1]


def test_charbonnier_is_zero_at_zero_and_symmetric_increasing():
    x = torch.tensor([0.0, 0.01, 0.1, 1.0])
    values = charbonnier(x)
    assert values[0].item() == pytest.approx(0, abs=1e-7)
    assert torch.all(values[1:] > values[:-1])
    torch.testing.assert_close(charbonnier(-x), values)


def test_smoothness_grows_with_flow_roughness():
    gen = torch.Generator().manual_seed(1)
    noise = torch.randn(1, 2, 32, 32, generator=gen)
    values = [smoothness_loss(smooth_flow() + a * noise).item() for a in (0.0, 0.1, 0.5)]
    assert 0 < values[0] and 2 * values[0] < values[1] and 2 * values[1] < values[2]


def test_edge_aware_smoothness_forgives_flow_edges_at_image_edges():
    image = torch.zeros(1, 3, 16, 16)
    image[..., 8:] = 1.0  # an image edge between columns 7 and 8
    flow = torch.zeros(1, 2, 16, 16)
    flow[:, 0, :, 8:] = 2.0  # the flow jumps at the same place
    plain = smoothness_loss(flow)
    aware = smoothness_loss(flow, image, edge_weight=10.0)
    assert aware.item() < 0.1 * plain.item()


def stack_from_flow(n_frames: int = 3, size: int = 32):
    """A stack (1, N, 3, H, W) whose frame t is frame t+1 warped by a constant flow."""
    flow = torch.zeros(1, 2, size, size)
    flow[:, 0], flow[:, 1] = 1.25, -0.5
    frames = [texture(size, seed=3)]
    for _ in range(n_frames - 1):
        frames.insert(0, warp(frames[0], flow))
    stack = torch.stack(frames, dim=1)
    flows = flow.repeat(1, n_frames - 1, 1, 1)  # (1, 2(N-1), H, W)
    return stack, flows


def test_motionnet_loss_is_zero_for_perfect_flows_and_reports_components():
    stack, flows = stack_from_flow()
    total, parts = motionnet_loss(stack, [flows], FlowSettings())
    assert total.item() == pytest.approx(0, abs=1e-5)
    assert set(parts) == {"total", "charbonnier", "ssim", "smoothness"}
    torch.testing.assert_close(reconstruct(stack, flows), stack[:, :-1])


def test_motionnet_loss_sums_scales_with_weights_and_is_differentiable():
    stack, flows = stack_from_flow()
    wrong = (flows + 1.0).requires_grad_(True)
    coarse = F.avg_pool2d(wrong, 2) / 2
    settings = FlowSettings(ssim_weight=0.5, smooth_weight=0.1)
    fine_only, _ = motionnet_loss(stack, [wrong], settings)
    coarse_only, _ = motionnet_loss(stack, [coarse], settings)
    total, parts = motionnet_loss(stack, [wrong, coarse], settings, weights=[1.0, 0.5])
    assert total.item() == pytest.approx(fine_only.item() + 0.5 * coarse_only.item(), rel=1e-5)
    assert parts["total"] == pytest.approx(total.item())
    total.backward()
    assert wrong.grad is not None and wrong.grad.abs().sum() > 0


def test_motionnet_loss_grows_with_flow_error_at_every_scale():
    stack, flows = stack_from_flow(n_frames=4)
    settings = FlowSettings()
    totals = []
    for error in (0.0, 0.5, 1.5):
        fine = flows + error
        coarse = F.avg_pool2d(fine, 2) / 2
        totals.append(motionnet_loss(stack, [fine, coarse], settings)[0].item())
    assert 2 * totals[0] < totals[1] and 2 * totals[1] < totals[2]
