"""The feature stage's augmentation as the ``train`` settings configure it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ethogram.config import load_settings
from ethogram.data.augment import training_augmenter
from ethogram.errors import ConfigError


def _flow_headings(rotation: str, n: int = 400) -> np.ndarray:
    """Headings (degrees) of a rightward flow field after augmentation, one per clip."""
    settings = load_settings("fast", overrides=[f"train.augment_rotation={rotation}"])
    augment = training_augmenter(settings.train)
    flow = torch.zeros(n, 2, 16, 16)
    flow[:, 0] = 1.0  # every vector points right (+x)
    _, out = augment(None, flow, generator=torch.Generator().manual_seed(0))
    centre = out[:, :, 8, 8]  # the zoom-in crop never reaches the corners' zero padding here
    return np.degrees(np.arctan2(centre[:, 1].numpy(), centre[:, 0].numpy()))


def _distance_to_horizontal(headings: np.ndarray) -> np.ndarray:
    """Angle between each heading and the x axis, either way along it (0..90 degrees)."""
    return np.abs((headings + 90.0) % 180.0 - 90.0)


def test_without_rotation_flips_keep_a_horizontal_field_horizontal():
    assert _distance_to_horizontal(_flow_headings("0")).max() < 1e-3


def test_default_rotation_turns_clips_to_any_heading():
    off_axis = _distance_to_horizontal(_flow_headings("180"))
    # uniform headings: about half the clips end up more than 45 degrees off the x axis
    assert 0.35 < np.mean(off_axis > 45.0) < 0.65
    assert off_axis.max() > 85.0
    assert load_settings("fast").train.augment_rotation == 180.0


def test_a_small_rotation_stays_within_its_bound():
    off_axis = _distance_to_horizontal(_flow_headings("30"))
    assert off_axis.max() <= 30.0 + 1e-3
    assert off_axis.max() > 20.0


def test_augmentation_off_gives_no_augmenter():
    settings = load_settings("fast", overrides=["train.augment=false"])
    assert training_augmenter(settings.train) is None


def test_a_rotation_beyond_180_degrees_is_refused():
    with pytest.raises(ConfigError, match="augment_rotation"):
        load_settings("fast", overrides=["train.augment_rotation=270"])
