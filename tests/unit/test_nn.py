"""Image backbones by name, ImageNet weights and two-stream fusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ethogram.errors import ConfigError
from ethogram.nn import (
    HiddenTwoStream,
    TwoStreamOutput,
    channels_last_convs,
    create_model,
    list_models,
    mirror_averaged,
    mirror_inputs,
)
from ethogram.nn.efficientnet import adapt_input_conv, imagenet_weights_path
from ethogram.nn.fusion import predict_two_stream


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _images(in_chans: int, size: int, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, in_chans, size, size)


def test_list_models_names_every_architecture() -> None:
    assert {"resnet18", "resnet34", "resnet50", "resnet3d18", "efficientnet_lite0"} <= set(
        list_models()
    )


def test_unknown_model_name_raises_config_error_suggesting_closest() -> None:
    with pytest.raises(ConfigError, match=r"'resnet19'.*did you mean 'resnet18'"):
        create_model("resnet19")


@pytest.mark.parametrize("name,width", [("resnet18", 0.5), ("efficientnet_lite0", 1.0)])
@pytest.mark.parametrize("in_chans", [3, 20])
@pytest.mark.parametrize("size", [64, 112])
def test_2d_model_gives_logits_for_any_in_chans_and_size(
    name: str, width: float, in_chans: int, size: int
) -> None:
    model = create_model(name, in_chans=in_chans, num_classes=5, width=width)
    assert model(_images(in_chans, size)).shape == (2, 5)


@pytest.mark.parametrize(
    "name,width,features",
    [
        ("resnet18", 1.0, 512),
        ("resnet18", 0.5, 256),
        ("resnet34", 0.25, 128),
        ("resnet50", 0.25, 512),
        ("efficientnet_lite0", 1.0, 1280),
    ],
)
def test_features_mode_returns_num_features(name: str, width: float, features: int) -> None:
    model = create_model(name, in_chans=20, num_classes=0, width=width).eval()
    x = _images(20, 64)
    with torch.no_grad():
        out = model(x)
        assert out.shape == (2, features) == (2, model.num_features)
        assert torch.equal(out, model.forward_features(x))


def test_width_multiplier_makes_smaller_resnet() -> None:
    def n_params(m: torch.nn.Module) -> int:
        return sum(p.numel() for p in m.parameters())

    full = create_model("resnet18", width=1.0)
    half = create_model("resnet18", width=0.5)
    assert n_params(half) < n_params(full) / 3


def test_resnet3d_takes_clips_and_frame_major_stacks() -> None:
    model = create_model("resnet3d18", in_chans=3, num_classes=4, width=0.25).eval()
    clip = torch.randn(2, 3, 5, 64, 64)  # (B, C, T, H, W)
    stacked = clip.transpose(1, 2).reshape(2, 15, 64, 64)  # [r0, g0, b0, r1, ...]
    with torch.no_grad():
        out = model(clip)
        assert out.shape == (2, 4)
        assert torch.allclose(model(stacked), out)
    features = create_model("resnet3d18", in_chans=2, width=0.25)
    assert features(torch.randn(2, 2, 3, 32, 32)).shape == (2, features.num_features)


def test_pretrained_resnet_warns_and_initializes_randomly() -> None:
    with pytest.warns(UserWarning, match="resnet18: no pretrained weights"):
        model = create_model("resnet18", pretrained=True, width=0.25)
    assert model(_images(3, 32)).shape == (2, model.num_features)


@pytest.mark.parametrize(
    "kwargs", [{"in_chans": 0}, {"num_classes": -1}, {"width": 0.0}, {"dropout": 1.0}]
)
def test_invalid_model_arguments_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        create_model("resnet18", **kwargs)


def test_efficientnet_pretrained_loads_imagenet_weights_from_package_file() -> None:
    reference = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    model = create_model("efficientnet_lite0", pretrained=True, num_classes=1000)
    assert torch.equal(model.conv_stem.weight, reference["_conv_stem.weight"])
    depthwise = reference["_blocks.5._depthwise_conv.weight"]
    assert torch.equal(model.blocks[5].dw_conv.weight, depthwise)
    assert torch.equal(model.bn_head.running_var, reference["_bn1.running_var"])
    assert torch.equal(model.fc.weight, reference["_fc.weight"])


def test_efficientnet_matches_reference_package_with_imagenet_weights() -> None:
    efficientnet_lite_pytorch = pytest.importorskip("efficientnet_lite_pytorch")
    state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    reference = efficientnet_lite_pytorch.EfficientNet.from_name("efficientnet-lite0")
    reference.load_state_dict(state)
    ours = create_model("efficientnet_lite0", pretrained=True, num_classes=1000)
    x = _images(3, 64)
    with torch.no_grad():
        assert torch.allclose(ours.eval()(x), reference.eval()(x), atol=1e-4)


def test_flow_adapted_first_layer_has_flow_channels_and_keeps_activation_scale() -> None:
    rgb = create_model("efficientnet_lite0", pretrained=True)
    flow = create_model("efficientnet_lite0", in_chans=20, pretrained=True)
    assert flow.conv_stem.weight.shape == (32, 20, 3, 3)
    # An input whose channels all carry the same signal gives the RGB activation.
    plane = torch.randn(1, 1, 16, 16)
    with torch.no_grad():
        out_rgb = rgb.conv_stem(plane.expand(1, 3, 16, 16))
        out_flow = flow.conv_stem(plane.expand(1, 20, 16, 16))
    assert torch.allclose(out_rgb, out_flow, atol=1e-5)
    # Everything after the first layer is ImageNet's.
    assert torch.equal(flow.blocks[3].project_conv.weight, rgb.blocks[3].project_conv.weight)
    assert torch.equal(adapt_input_conv(rgb.conv_stem.weight, 3), rgb.conv_stem.weight)


def test_efficientnet_pretrained_with_other_width_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="width=1.0"):
        create_model("efficientnet_lite0", pretrained=True, width=0.5)


def _two_stream(fusion: str, flow_weight: float = 0.5) -> HiddenTwoStream:
    spatial = create_model("resnet18", in_chans=3, width=0.25)
    motion = create_model("resnet18", in_chans=4, width=0.25)
    return HiddenTwoStream(spatial, motion, num_classes=5, fusion=fusion, flow_weight=flow_weight)


@pytest.mark.parametrize("fusion", ["average", "concatenate", "weighted"])
def test_two_stream_outputs_have_expected_shapes(fusion: str) -> None:
    model = _two_stream(fusion)
    out = model(_images(3, 32), _images(4, 32))
    assert isinstance(out, TwoStreamOutput)
    assert out.logits.shape == out.spatial_logits.shape == out.flow_logits.shape == (2, 5)
    assert out.spatial_features.shape == (2, model.spatial.num_features)
    assert out.flow_features.shape == (2, model.motion.num_features)
    assert model.num_features == 256


def test_average_and_initial_weighted_fusion_mix_stream_logits_by_flow_weight() -> None:
    rgb, flow = _images(3, 32), _images(4, 32)
    for fusion in ("average", "weighted"):
        model = _two_stream(fusion, flow_weight=0.3).eval()
        with torch.no_grad():
            out = model(rgb, flow)
        expected = 0.7 * out.spatial_logits + 0.3 * out.flow_logits
        assert torch.allclose(out.logits, expected, atol=1e-6)
    assert _two_stream("weighted").fusion_weights.shape == (2, 5)


def test_two_stream_runs_one_stream_when_other_input_is_none() -> None:
    model = _two_stream("concatenate").eval()
    with torch.no_grad():
        spatial_only = model(_images(3, 32), None)
    assert spatial_only.flow_logits is None and spatial_only.flow_features is None
    assert torch.equal(spatial_only.logits, spatial_only.spatial_logits)


def test_mirror_inputs_flips_width_and_negates_horizontal_flow_only() -> None:
    rgb, flow = _images(3, 8), _images(4, 8)  # flow: dx, dy of 2 fields
    rgb_m, flow_m = mirror_inputs(rgb, flow)
    assert torch.equal(rgb_m, rgb.flip(-1))
    assert torch.equal(flow_m[:, 0::2], -flow[:, 0::2].flip(-1))  # dx
    assert torch.equal(flow_m[:, 1::2], flow[:, 1::2].flip(-1))  # dy
    twice = mirror_inputs(*mirror_inputs(rgb, flow))
    assert torch.equal(twice[0], rgb) and torch.equal(twice[1], flow)
    clip = torch.randn(2, 3, 4, 8, 8)  # 3D networks: (B, C, T, H, W)
    assert torch.equal(mirror_inputs(clip, None)[0], clip.flip(-1))
    assert mirror_inputs(None, flow)[0] is None


def test_mirrored_dis_flow_is_the_flow_of_mirrored_frames() -> None:
    """The sign convention against real optical flow: a texture drifting right and down."""
    from scipy.ndimage import gaussian_filter

    from ethogram.flow.dis import dis_flow

    rng = np.random.default_rng(0)
    texture = gaussian_filter(rng.random((96, 96)), 2.0)
    texture = (255 * (texture - texture.min()) / np.ptp(texture)).astype(np.uint8)
    frames = np.stack([texture[8 - t : 72 - t, 6 - 2 * t : 70 - 2 * t] for t in range(4)])
    flow = torch.from_numpy(dis_flow(frames, preset="medium")).flatten(0, 1)[None]
    assert flow[:, 0::2, 16:48, 16:48].mean() > 1.5  # dx = +2 px
    mirrored = dis_flow(frames[:, :, ::-1].copy(), preset="medium")
    expected = torch.from_numpy(mirrored).flatten(0, 1)[None]
    _, flow_m = mirror_inputs(None, flow)
    inner = (slice(None), slice(None), slice(16, 48), slice(16, 48))
    assert torch.allclose(flow_m[inner], expected[inner], atol=0.3)


def test_mirror_averaged_outputs_are_the_mean_of_both_views_and_mirror_invariant() -> None:
    model = _two_stream("concatenate").eval()
    rgb, flow = _images(3, 32), _images(4, 32)
    with torch.no_grad():
        avg = mirror_averaged(model, rgb, flow)
        direct, mirrored = model(rgb, flow), model(*mirror_inputs(rgb, flow))
        of_mirror = mirror_averaged(model, *mirror_inputs(rgb, flow))
        plain = predict_two_stream(model, rgb, flow, mirror=False)
    for a, d, m, o in zip(avg, direct, mirrored, of_mirror, strict=True):
        assert torch.allclose(a, (d + m) / 2, atol=1e-6)
        assert torch.allclose(o, a, atol=1e-5)  # a video and its mirror image: same outputs
    assert torch.equal(plain.logits, direct.logits)
    spatial_only = mirror_averaged(model, rgb, None)
    assert spatial_only.flow_features is None and spatial_only.logits.shape == (2, 5)


@pytest.mark.parametrize("fusion", ["average", "concatenate"])
def test_mirroring_one_stream_averages_that_streams_views_and_keeps_the_other(fusion) -> None:
    model = _two_stream(fusion).eval()
    rgb, flow = _images(3, 32), _images(4, 32)
    rgb_m, flow_m = mirror_inputs(rgb, flow)
    with torch.no_grad():
        motion = predict_two_stream(model, rgb, flow, mirror="motion")
        spatial = predict_two_stream(model, rgb, flow, mirror="spatial")
        direct = model(rgb, flow)
        flow_only_mirrored, rgb_only_mirrored = model(rgb, flow_m), model(rgb_m, flow)
        both = predict_two_stream(model, rgb, flow, mirror=True)
        as_string = predict_two_stream(model, rgb, flow, mirror="both")
    torch.testing.assert_close(motion.spatial_features, direct.spatial_features)
    torch.testing.assert_close(spatial.flow_features, direct.flow_features)
    for name in ("logits", "spatial_features", "flow_features"):
        half = (getattr(direct, name) + getattr(flow_only_mirrored, name)) / 2
        torch.testing.assert_close(getattr(motion, name), half)
        half = (getattr(direct, name) + getattr(rgb_only_mirrored, name)) / 2
        torch.testing.assert_close(getattr(spatial, name), half)
    assert torch.equal(both.logits, as_string.logits)
    assert not torch.allclose(motion.logits, both.logits)
    with pytest.raises(ValueError, match="streams"):
        mirror_averaged(model, rgb, flow, "left")


def test_mirror_average_setting_reads_old_true_false_configs() -> None:
    from ethogram.config import load_settings

    assert load_settings("fast").features.mirror_average == "spatial"  # the motion stream once
    assert load_settings("medium").features.mirror_average == "both"
    for value, mode in ((True, "both"), (False, "none"), ("motion", "motion")):
        settings = load_settings("fast", overrides=[f"features.mirror_average={value}"])
        assert settings.features.mirror_average == mode
    with pytest.raises(Exception, match="mirror_average"):
        load_settings("fast", overrides=["features.mirror_average=left"])


def test_set_trainable_freezes_stream_weights_and_batchnorm_statistics() -> None:
    model = _two_stream("weighted")
    model.set_trainable(spatial=False, motion=True)
    model.train()
    assert not any(p.requires_grad for p in model.spatial.parameters())
    assert not any(p.requires_grad for p in model.spatial_head.parameters())
    assert all(p.requires_grad for p in model.motion.parameters())
    assert model.fusion_weights.requires_grad
    assert not model.spatial.training and model.motion.training
    stats_before = model.spatial.bn1.running_mean.clone()
    model(_images(3, 32), _images(4, 32)).logits.sum().backward()
    assert torch.equal(model.spatial.bn1.running_mean, stats_before)
    assert all(p.grad is None for p in model.spatial.parameters())
    assert model.motion.conv1.weight.grad is not None
    model.set_trainable(spatial=True, motion=True)
    assert all(p.requires_grad for p in model.parameters()) and model.spatial.training


def test_invalid_fusion_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="fusion must be one of"):
        _two_stream("sum")


def test_same_seed_builds_identical_model() -> None:
    torch.manual_seed(3)
    a = create_model("resnet18", width=0.25, num_classes=2)
    torch.manual_seed(3)
    b = create_model("resnet18", width=0.25, num_classes=2)
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    assert all(torch.equal(p, q) for p, q in pairs)


def test_channels_last_convs_keeps_outputs_and_leaves_3d_convs_alone() -> None:
    torch.manual_seed(0)
    model = create_model("resnet18", in_chans=20, num_classes=4).eval()
    x = torch.randn(2, 20, 64, 64)
    before = model(x)
    channels_last_convs(model)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(model(x), before, atol=1e-4)
    model3d = create_model("resnet3d18", in_chans=3, num_classes=4, width=0.25).eval()
    channels_last_convs(model3d)
    assert model3d(torch.randn(1, 3, 4, 32, 32)).shape == (1, 4)
