"""Temporal Gaussian Mixture sequence models: shapes, kernels, receptive field, TGMJ."""

from __future__ import annotations

import pytest
import torch

from ethogram.errors import ConfigError
from ethogram.nn import (
    TGM,
    TGMJ,
    SequenceEnsemble,
    TGMLayer,
    create_sequence_model,
    receptive_field,
)
from ethogram.nn.tgm import InputDropout


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_tgm_layer_maps_channels_and_keeps_length() -> None:
    layer = TGMLayer(in_channels=6, out_channels=4, n_filters=3, filter_length=9)
    assert layer(torch.randn(2, 6, 20)).shape == (2, 4, 20)


def test_tgm_layer_kernels_are_normalized_mixtures_of_gaussians() -> None:
    layer = TGMLayer(4, 5, n_filters=3, filter_length=11)
    gaussians = layer.gaussians()
    assert gaussians.shape == (3, 11) and bool((gaussians >= 0).all())
    assert torch.allclose(gaussians.sum(dim=1), torch.ones(3))
    kernels = layer.kernels()
    assert kernels.shape == (5, 11)
    assert torch.allclose(kernels.sum(dim=1), torch.ones(5))


@pytest.mark.parametrize("arch", ["tgm", "tgmj"])
@pytest.mark.parametrize("n_frames", [1, 5, 15, 40])
def test_sequence_model_preserves_number_of_frames(arch: str, n_frames: int) -> None:
    model = create_sequence_model(arch, in_features=12, num_classes=4, filter_length=15)
    features = torch.randn(2, n_frames, 12)
    logits = torch.randn(2, n_frames, 4)
    assert model(features, logits).shape == (2, n_frames, 4)


def test_gradients_reach_gaussian_parameters_and_classifier() -> None:
    model = TGMJ(in_features=8, num_classes=3, n_filters=4, filter_length=7, hidden=16)
    model(torch.randn(2, 30, 8), torch.randn(2, 30, 3)).pow(2).mean().backward()
    layer = model.layers[0]
    for param in (layer.center, layer.width, layer.attention, model.mix_weights):
        assert param.grad is not None and param.grad.abs().sum() > 0
    assert model.project.weight.grad.abs().sum() > 0
    assert model.classify_tgm.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("arch,filter_length,num_layers", [("tgm", 5, 3), ("tgmj", 6, 2)])
def test_receptive_field_matches_frames_that_change_when_one_input_frame_changes(
    arch: str, filter_length: int, num_layers: int
) -> None:
    model = create_sequence_model(
        arch, 6, 3, filter_length=filter_length, num_layers=num_layers, hidden=16, n_filters=3
    )
    model = model.double().eval()
    rf = receptive_field(model)
    assert rf == num_layers * (filter_length - 1) + 1

    features = torch.rand(1, 40, 6, dtype=torch.float64)
    logits = torch.randn(1, 40, 3, dtype=torch.float64)
    t0 = 20
    perturbed = features.clone()
    perturbed[0, t0] += 5.0
    with torch.no_grad():
        diff = (model(perturbed, logits) - model(features, logits)).abs().amax(dim=2)[0]
    changed = torch.nonzero(diff > 0).flatten().tolist()
    assert len(changed) == rf
    assert changed == list(range(changed[0], changed[0] + rf))
    assert changed[0] <= t0 <= changed[-1]  # centered, not causal


def test_tgmj_output_depends_on_input_logits_and_tgm_ignores_them() -> None:
    features = torch.randn(2, 10, 8)
    logits_a, logits_b = torch.randn(2, 10, 3), torch.randn(2, 10, 3)
    tgmj = TGMJ(8, 3).eval()
    tgm = TGM(8, 3).eval()
    with torch.no_grad():
        assert not torch.allclose(tgmj(features, logits_a), tgmj(features, logits_b))
        assert torch.equal(tgm(features, logits_a), tgm(features, logits_b))
        # An increase of one class's input logit raises only that class's output.
        bumped = logits_a.clone()
        bumped[..., 1] += 1.0
        delta = tgmj(features, bumped) - tgmj(features, logits_a)
    assert bool((delta[..., 1] > 0).all()) and torch.equal(delta[..., 0], torch.zeros(2, 10))


def test_tgmj_rejects_logits_of_wrong_shape() -> None:
    with pytest.raises(ValueError, match="expected logits"):
        TGMJ(8, 3)(torch.randn(1, 10, 8), torch.randn(1, 10, 4))


def test_init_output_bias_sets_class_log_odds() -> None:
    model = TGMJ(8, 2)
    model.init_output_bias(torch.tensor([0.5, 0.1]))
    expected = torch.tensor([0.0, torch.log(torch.tensor(0.1 / 0.9)).item()])
    assert torch.allclose(model.classify_tgm.bias, expected)
    assert torch.allclose(model.classify_input.bias, expected)


def test_unknown_sequence_arch_raises_config_error_suggesting_closest() -> None:
    with pytest.raises(ConfigError, match=r"'tgmk'.*did you mean 'tgm"):
        create_sequence_model("tgmk", 8, 2)
    with pytest.raises(ConfigError, match="unknown argument"):
        create_sequence_model("tgm", 8, 2, n_filter=3)


def test_same_seed_gives_same_sequence_model_output() -> None:
    features = torch.randn(1, 12, 8)
    outputs = []
    for _ in range(2):
        torch.manual_seed(7)
        outputs.append(TGM(8, 2).eval()(features))
    assert torch.equal(outputs[0], outputs[1])


def test_an_ensemble_averages_its_members_logits_and_keeps_the_shapes() -> None:
    torch.manual_seed(0)
    ensemble = create_sequence_model("tgmj", in_features=6, num_classes=3, members=3)
    assert isinstance(ensemble, SequenceEnsemble) and len(ensemble.members) == 3
    assert ensemble.uses_logits
    ensemble.eval()
    x, logits = torch.randn(2, 40, 6), torch.randn(2, 40, 3)
    each = ensemble.member_logits(x, logits)
    assert each.shape == (3, 2, 40, 3)
    assert not torch.allclose(each[0], each[1])  # members start from different weights
    assert torch.allclose(ensemble(x, logits), each.mean(dim=0))
    ensemble.init_output_bias(torch.tensor([0.5, 0.1, 0.9]))
    for member in ensemble.members:
        assert torch.allclose(member.classify_tgm.bias, torch.logit(torch.tensor([0.5, 0.1, 0.9])))


def test_an_ensembles_receptive_field_is_its_members() -> None:
    one = create_sequence_model("tgm", in_features=4, num_classes=2, filter_length=9)
    three = create_sequence_model("tgm", in_features=4, num_classes=2, filter_length=9, members=3)
    assert receptive_field(three) == receptive_field(one) > 1


def test_a_sequence_model_needs_at_least_one_member() -> None:
    with pytest.raises(ConfigError, match="at least 1 member"):
        create_sequence_model("tgm", in_features=4, num_classes=2, members=0)


def test_input_dropout_drops_about_p_keeps_the_mean_and_is_off_in_eval() -> None:
    torch.manual_seed(0)
    drop = InputDropout(0.3)
    x = torch.ones(8, 64, 200)
    out = drop(x)
    zeros = (out == 0).float().mean().item()
    assert abs(zeros - 0.3) < 0.01
    assert torch.allclose(out[out != 0], torch.full_like(out[out != 0], 1 / 0.7))
    assert abs(out.mean().item() - 1.0) < 0.02
    drop.eval()
    assert drop(x) is x


def test_tgmj_input_branches_see_one_dropout_mask() -> None:
    torch.manual_seed(0)
    model = TGMJ(in_features=12, num_classes=3, dropout=0.5).train()
    seen = []
    model.project.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    model.classify_input.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    model(torch.randn(2, 30, 12))
    assert len(seen) == 2 and torch.equal(seen[0], seen[1])
    assert (seen[0] == 0).any()
