"""The moving average of a network's weights used by feature training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ethogram.train.weight_average import WeightAverage


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_update_moves_the_average_towards_the_weights_by_one_minus_decay():
    net = small_net()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    average = WeightAverage(decay=0.75)
    average.reset(net)
    with torch.no_grad():
        net[0].weight.add_(4.0)
    net[1].num_batches_tracked.fill_(7)
    average.update(net)
    assert torch.allclose(average.state["0.weight"], start["0.weight"] + 1.0)
    assert int(average.state["1.num_batches_tracked"]) == 7  # counters are copied, not averaged


def moved_net() -> tuple[nn.Module, WeightAverage, torch.Tensor]:
    """A net whose first bias moved by 2 after the average started (decay 0.5): the average's
    bias lies 1 below the net's own."""
    net = small_net()
    average = WeightAverage(decay=0.5)
    average.reset(net)
    with torch.no_grad():
        net[0].bias.add_(2.0)
    average.update(net)
    return net, average, net[0].bias.detach().clone()


def test_applied_swaps_the_average_in_and_puts_the_own_weights_back():
    net, average, own = moved_net()
    with average.applied(net):
        assert torch.allclose(net[0].bias, own - 1.0)
    assert torch.equal(net[0].bias, own)


def test_applied_puts_the_own_weights_back_after_an_error():
    net, average, own = moved_net()
    with pytest.raises(RuntimeError), average.applied(net):
        raise RuntimeError("validation failed")
    assert torch.equal(net[0].bias, own)


def test_state_round_trips_and_an_unstarted_average_changes_nothing():
    net = small_net()
    average = WeightAverage(decay=0.9)
    assert not average.started and average.state_dict() is None
    before = net[0].weight.detach().clone()
    with average.applied(net):
        assert torch.equal(net[0].weight, before)
    average.update(net)  # the first update starts the average at the weights
    copy = WeightAverage(decay=0.9)
    copy.load_state_dict(average.state_dict())
    assert copy.started
    assert all(torch.equal(copy.state[k], average.state[k]) for k in average.state)


@pytest.mark.parametrize("decay", [-0.1, 1.0, 2.0])
def test_a_decay_outside_zero_one_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(decay)
