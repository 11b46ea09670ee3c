"""Per-video batch-norm statistics (ethogram.nn.video_norm)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ethogram.nn import HiddenTwoStream, create_model
from ethogram.nn.video_norm import (
    MIN_STATISTICS_FRAMES,
    adapted_streams,
    statistics_frame_limit,
    statistics_frames,
    video_statistics,
)


@pytest.fixture
def model() -> HiddenTwoStream:
    torch.manual_seed(0)
    net = HiddenTwoStream(
        create_model("resnet18", in_chans=3, width=0.25),
        create_model("resnet18", in_chans=4, width=0.25),
        num_classes=3,
    )
    net.train()  # give the batch norms statistics of their own, as training would
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(16, 3, 32, 32), torch.randn(16, 4, 32, 32))
    return net.eval()


def _state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_statistics_frames_spread_over_the_video_in_shuffled_order():
    frames = statistics_frames(10_000, max_frames=512)
    assert len(frames) == 512 and len(np.unique(frames)) == 512
    assert frames.min() == 0 and frames.max() == 9_999
    assert not np.all(np.diff(frames) > 0)  # shuffled: batches span the whole video
    assert sorted(statistics_frames(40)) == list(range(40))
    assert len(statistics_frames(MIN_STATISTICS_FRAMES - 1)) == 0  # too short: trained ones
    assert len(statistics_frames(0)) == 0


def test_large_inputs_are_measured_on_fewer_frames():
    from ethogram.config import load_settings

    assert statistics_frame_limit(load_settings("fast").features) == 512
    big = load_settings(
        "fast", overrides=["features.input_size=256", "features.n_flows=20"]
    ).features
    assert 64 <= statistics_frame_limit(big) < 512
    # only the motion stream's stacks are held unless both streams are adapted
    fine_frames = ["features.input_size=512", "features.flow_input_size=64"]
    assert statistics_frame_limit(load_settings("fast", overrides=fine_frames).features) == 512
    both = load_settings("fast", overrides=fine_frames + ["features.video_norm=all"]).features
    assert statistics_frame_limit(both) < 512


def test_adapted_statistics_remove_a_video_wide_scale(model):
    """Flow three times larger (a closer camera) gives the same features once adapted."""
    flow = torch.randn(32, 4, 32, 32)
    rgb = torch.randn(32, 3, 32, 32)
    with video_statistics(model, "flow", [(None, flow)]):
        ref = model(rgb, flow).flow_features
    with video_statistics(model, "flow", [(None, 3 * flow)]):
        scaled = model(rgb, 3 * flow).flow_features
    with torch.no_grad():
        unadapted = model(rgb, 3 * flow).flow_features
    torch.testing.assert_close(scaled, ref, atol=1e-3, rtol=1e-3)
    assert (unadapted - ref).abs().max() > 0.1


def test_statistics_and_mode_are_put_back(model):
    before = _state(model)
    with video_statistics(model, "all", [(torch.randn(8, 3, 32, 32), torch.randn(8, 4, 32, 32))]):
        assert not model.training
        changed = _state(model)
    after = _state(model)
    key = next(k for k in before if k.startswith("motion.") and k.endswith("running_mean"))
    assert not torch.equal(changed[key], before[key])
    for k in before:
        torch.testing.assert_close(after[k], before[k], rtol=0, atol=0)
    model.train()
    with video_statistics(model, "flow", [(None, torch.randn(8, 4, 32, 32))]):
        assert not model.training
    assert model.training


def test_only_the_named_streams_change(model):
    before = _state(model)
    with video_statistics(model, "flow", [(torch.randn(8, 3, 32, 32), torch.randn(8, 4, 32, 32))]):
        inside = _state(model)
    spatial = [k for k in before if k.startswith("spatial.") and "running" in k]
    motion = [k for k in before if k.startswith("motion.") and "running" in k]
    assert spatial and motion
    assert all(torch.equal(inside[k], before[k]) for k in spatial)
    assert any(not torch.equal(inside[k], before[k]) for k in motion)
    # a stream named but given no input keeps the statistics it was trained with
    with video_statistics(model, "all", [(None, torch.randn(8, 4, 32, 32))]):
        inside = _state(model)
    assert all(torch.equal(inside[k], before[k]) for k in spatial)
    # "none" changes nothing
    x = (torch.randn(4, 3, 32, 32), torch.randn(4, 4, 32, 32))
    with torch.no_grad():
        plain = model(*x).logits
    with video_statistics(model, "none", [(None, torch.randn(8, 4, 32, 32))]):
        torch.testing.assert_close(model(*x).logits, plain)


def test_unknown_mode_is_an_error(model):
    with pytest.raises(ValueError, match="video_norm"):
        adapted_streams(model, "spatial")
