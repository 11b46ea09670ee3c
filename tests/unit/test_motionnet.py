"""MotionNet flow generators, their training signal, and the flow interface (method motionnet)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ethogram.config import FlowSettings
from ethogram.errors import ConfigError, FlowError, ModelError
from ethogram.flow.api import MotionNetFlowStream, compute_flow, load_motionnet
from ethogram.flow.losses import motionnet_loss
from ethogram.models.checkpoint import save_checkpoint
from ethogram.nn.motionnet import build_motionnet, resize_flow
from tests.unit.test_flow_dis import translated_texture


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared, loaded 2-core machine more threads only contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "arch, n_scales", [("TinyMotionNet", 3), ("MotionNet", 5), ("TinyMotionNet3D", 3)]
)
def test_networks_output_n_minus_1_flows_at_several_scales_finest_first(arch, n_scales):
    net = build_motionnet(arch, num_images=4, channel_base=8)
    stack = torch.rand(2, 4, 3, 64, 64)
    x = net.input_from_stack(stack)
    assert x.shape == ((2, 3, 4, 64, 64) if arch.endswith("3D") else (2, 12, 64, 64))
    flows = net(x)
    assert len(flows) == n_scales
    assert [f.shape[-1] for f in flows] == [64 // 2 ** (i + 1) for i in range(n_scales)]
    assert all(f.shape[:2] == (2, 6) for f in flows)


@pytest.mark.parametrize("arch", ["TinyMotionNet", "MotionNet", "TinyMotionNet3D"])
def test_every_network_learns_from_the_unsupervised_loss(arch):
    torch.manual_seed(0)
    size = 64 if arch == "MotionNet" else 32  # MotionNet downsamples 32x
    frames = translated_texture(4, size, 1.5, -1.0)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float() / 255
    net = build_motionnet(arch, num_images=4, channel_base=8)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    settings = FlowSettings(method="motionnet")
    losses = []
    for _ in range(25):
        loss, _ = motionnet_loss(x, net(net.input_from_stack(x)), settings)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_untrained_networks_start_near_zero_flow():
    net = build_motionnet("TinyMotionNet", num_images=3, channel_base=8).eval()
    with torch.no_grad():
        flows = net(net.input_from_stack(torch.rand(1, 3, 3, 32, 32)))
    assert flows[0].abs().max() < 0.5


def test_a_stack_of_the_wrong_length_and_an_unknown_arch_are_errors():
    net = build_motionnet("TinyMotionNet", num_images=11, channel_base=8)
    with pytest.raises(ConfigError, match="expects stacks of 11 frames, got 5"):
        net.input_from_stack(torch.rand(1, 5, 3, 32, 32))
    with pytest.raises(ConfigError, match="unknown flow network 'FlowNet'.*TinyMotionNet"):
        build_motionnet("FlowNet")


def test_resize_flow_rescales_dx_by_width_and_dy_by_height():
    flow = torch.ones(1, 4, 8, 16)
    out = resize_flow(flow, (32, 32))
    assert out.shape == (1, 4, 32, 32)
    torch.testing.assert_close(out[:, 0::2], torch.full((1, 2, 32, 32), 2.0))
    torch.testing.assert_close(out[:, 1::2], torch.full((1, 2, 32, 32), 4.0))


def random_translation_batch(rng, batch: int, n_frames: int, size: int):
    stacks, motions = [], []
    for _ in range(batch):
        dx, dy = rng.uniform(-2.5, 2.5, 2)
        seed = int(rng.integers(1 << 30))
        stacks.append(translated_texture(n_frames, size, dx, dy, seed=seed))
        motions.append((dx, dy))
    return np.stack(stacks), np.array(motions)


def test_briefly_trained_tiny_motionnet_beats_zero_flow_on_known_translation():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    size, n_frames = 40, 3
    net = build_motionnet("TinyMotionNet", num_images=n_frames, channel_base=16)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)
    settings = FlowSettings(method="motionnet", size=size, stack_frames=n_frames)
    for _ in range(150):
        stacks, _ = random_translation_batch(rng, 4, n_frames, size)
        x = torch.from_numpy(stacks).permute(0, 1, 4, 2, 3).float() / 255
        loss, _ = motionnet_loss(x, net(net.input_from_stack(x)), settings)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    errors, zero_errors = [], []
    for i in range(8):
        dx, dy = rng.uniform(-2.5, 2.5, 2)
        frames = translated_texture(5, size, dx, dy, seed=1000 + i)
        flow = compute_flow(frames, settings, model=net)[..., 8:-8, 8:-8]
        errors.append(np.hypot(flow[:, 0] - dx, flow[:, 1] - dy).mean())
        zero_errors.append(np.hypot(dx, dy))
    assert np.mean(errors) < 0.6 * np.mean(zero_errors)


@pytest.fixture
def tiny_net():
    torch.manual_seed(0)
    net = build_motionnet("TinyMotionNet", num_images=3, channel_base=8)
    with torch.no_grad():  # non-trivial flows, so that different stacks give different outputs
        for head in (net.flow2, net.flow3, net.flow4):
            head.weight.normal_(std=0.05)
    return net.eval()


def test_motionnet_flow_covers_every_pair_including_the_video_end(tiny_net):
    frames = translated_texture(6, 32, 1.0, 0.5)
    settings = FlowSettings(method="motionnet", size=32, stack_frames=3)
    flow = compute_flow(frames, settings, model=tiny_net)
    assert flow.shape == (5, 2, 32, 32) and flow.dtype == np.float32

    def direct(start):  # finest flows of the stack starting at `start`, at 32 px
        x = torch.from_numpy(frames[start : start + 3]).permute(0, 3, 1, 2)[None].float() / 255
        with torch.no_grad():
            out = resize_flow(tiny_net(tiny_net.input_from_stack(x))[0], (32, 32))
        return out.view(2, 2, 32, 32).numpy()

    # stacks [0..2] -> pairs 0, 1; [2..4] -> pairs 2, 3; the end stack [3..5] -> pair 4
    np.testing.assert_allclose(flow[0:2], direct(0), atol=1e-5)
    np.testing.assert_allclose(flow[2:4], direct(2), atol=1e-5)
    np.testing.assert_allclose(flow[4], direct(3)[1], atol=1e-5)


def test_motionnet_flow_streamed_in_chunks_matches_all_at_once(tiny_net):
    frames = translated_texture(10, 32, -1.0, 0.5)
    whole = compute_flow(frames, FlowSettings(method="motionnet", size=32), model=tiny_net)
    stream = MotionNetFlowStream(tiny_net, 32, batch_size=2)
    parts = [stream.push(frames[i : i + 3]) for i in range(0, 10, 3)] + [stream.finish()]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)


def test_frames_fewer_than_the_stack_are_an_error_naming_the_count(tiny_net):
    settings = FlowSettings(method="motionnet", size=32)
    with pytest.raises(FlowError, match="at least 3 frames .*found 2"):
        compute_flow(translated_texture(2, 32, 1, 0), settings, model=tiny_net)


def test_method_motionnet_without_a_model_says_how_to_get_one():
    with pytest.raises(FlowError, match="flow.model_dir"):
        compute_flow(translated_texture(4, 32, 1, 0), FlowSettings(method="motionnet"))


def save_flow_model(folder, net, **meta):
    folder.mkdir(parents=True, exist_ok=True)
    extra = {**net.config(), "size": 32, "stage": "flow", **meta}
    save_checkpoint(folder / "best.pt", {"model": net.state_dict(), "epoch": 0, "extra": extra})
    return folder


def test_load_motionnet_restores_the_network(tmp_path, tiny_net):
    model_dir = save_flow_model(tmp_path / "flow_model", tiny_net)
    loaded = load_motionnet(model_dir)
    assert loaded.num_images == 3 and loaded.flow_size == 32 and not loaded.training
    x = torch.rand(1, 9, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], tiny_net(x)[0])


def test_load_motionnet_missing_or_mismatched_models_are_clear_errors(tmp_path, tiny_net):
    with pytest.raises(ModelError, match="not found"):
        load_motionnet(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no best.pt or checkpoint.pt"):
        load_motionnet(tmp_path / "empty")
    wrong = save_flow_model(tmp_path / "wrong", tiny_net, num_images=11)
    with pytest.raises(ModelError, match="do not fit TinyMotionNet with 11 input frames"):
        load_motionnet(wrong)
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "best.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="best.pt"):
        load_motionnet(tmp_path / "corrupt")
