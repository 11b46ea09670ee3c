"""Windows of features for the sequence model: coverage, padding at the edges, -1 masking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from ethogram.data.sequence import (
    SequenceInputs,
    SequenceWindows,
    crop,
    feature_statistics,
    load_sequence_inputs,
    positive_fraction,
    standardize_per_video,
    window_starts,
)
from ethogram.errors import EthogramError
from ethogram.io.outputs import write_group

NAMES = ["background", "groom", "rear"]


def _video(n_frames: int, stem: str = "v", labeled: bool = True, seed: int = 0) -> SequenceInputs:
    rng = np.random.default_rng(seed)
    # feature 0 is the frame number, so windows can be checked against the source frames
    features = np.stack([np.arange(n_frames), rng.random(n_frames)], axis=1).astype(np.float32)
    logits = rng.normal(size=(n_frames, 3)).astype(np.float32)
    labels = None
    if labeled:
        labels = np.zeros((n_frames, 3), np.int8)
        labels[:, 0] = 1
        labels[n_frames // 2 :, 0] = 0
        labels[n_frames // 2 :, 1] = 1
    return SequenceInputs(stem, features, logits, labels)


@pytest.mark.parametrize("n_frames,window,offset", [(10, 4, 0), (10, 4, 3), (8, 4, 0), (3, 8, 5)])
def test_windows_cover_every_frame_exactly_once(n_frames, window, offset):
    covered = np.zeros(n_frames, int)
    for start in window_starts(n_frames, window, offset):
        lo, hi = max(start, 0), min(start + window, n_frames)
        covered[lo:hi] += 1
    np.testing.assert_array_equal(covered, 1)


def test_crop_pads_both_edges_with_the_fill_value():
    x = np.arange(5)
    np.testing.assert_array_equal(crop(x, -2, 4, -1), [-1, -1, 0, 1])
    np.testing.assert_array_equal(crop(x, 3, 4, -1), [3, 4, -1, -1])
    np.testing.assert_array_equal(crop(x, -1, 8, 9), [9, 0, 1, 2, 3, 4, 9, 9])


def test_padded_frames_have_zero_features_and_masked_labels():
    video = _video(10)
    data = SequenceWindows([video], window=4, offset=1)
    assert [start for _, start in data.index] == [-1, 3, 7]
    first, last = data[0], data[2]
    assert first.labels[0].tolist() == [-1, -1, -1]
    assert first.features[0].tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(first.features[1:, 0], [0, 1, 2])
    np.testing.assert_array_equal(last.features[:3, 0], [7, 8, 9])
    assert (last.labels[3] == -1).all() and (last.labels[:3] >= 0).all()
    np.testing.assert_array_equal(last.logits[:3].numpy(), video.logits[7:10])


def test_unlabeled_values_stay_minus_one_and_unlabeled_windows_are_skipped():
    video = _video(12)
    video.labels[:8] = -1  # first two windows of 4 frames entirely unlabeled
    video.labels[9, 2] = -1  # one unlabeled value in a labeled frame
    data = SequenceWindows([video], window=4)
    assert [start for _, start in data.index] == [8]
    labels = data[0].labels
    assert labels[1].tolist() == [0, 1, -1]
    assert labels[0].tolist() == [0, 1, 0]
    assert len(SequenceWindows([video], window=4, labeled_only=False)) == 3


def test_offset_changes_the_windows_and_batches_collate():
    data = SequenceWindows([_video(20, "a"), _video(7, "b", seed=1)], window=6)
    assert len(data) == 4 + 2
    data.set_offset(4)
    assert [start for _, start in data.index] == [-4, 2, 8, 14, -4, 2]
    batch = next(iter(DataLoader(data, batch_size=3)))
    assert batch.features.shape == (3, 6, 2)
    assert batch.labels.dtype == torch.float32 and batch.logits.shape == (3, 6, 3)


def test_features_are_read_from_the_outputs_file_and_concatenated(tmp_path):
    path = tmp_path / "v1_outputs.h5"
    write_group(
        path,
        "resnet18",
        {
            "spatial_features": np.ones((6, 4), np.float32),
            "flow_features": np.full((6, 3), 2.0, np.float32),
            "logits": np.zeros((6, 3), np.float32),
            "P": np.full((6, 3), 0.5, np.float32),
            "class_names": NAMES,
        },
    )
    inputs = load_sequence_inputs(path, "resnet18", labels=np.zeros((6, 3), np.int8))
    assert inputs.stem == "v1"
    assert inputs.features.shape == (6, 7)
    np.testing.assert_array_equal(inputs.features[0], [1, 1, 1, 1, 2, 2, 2])
    assert inputs.spatial_columns == 4  # the spatial block comes first
    with pytest.raises(EthogramError, match="labels have 5 frames"):
        load_sequence_inputs(path, "resnet18", labels=np.zeros((5, 3), np.int8))
    write_group(path, "tgmj", {"P": np.zeros((6, 3), np.float32), "class_names": NAMES})
    with pytest.raises(EthogramError, match="has no features"):
        load_sequence_inputs(path, "tgmj")


def test_the_feature_extractors_logits_come_with_the_features_unchanged(tmp_path):
    path = tmp_path / "v1_outputs.h5"
    logits = np.arange(18, dtype=np.float32).reshape(6, 3)
    spatial = np.arange(24, dtype=np.float32).reshape(6, 4)
    write_group(path, "resnet18", {"spatial_features": spatial, "logits": logits})
    inputs = load_sequence_inputs(path, "resnet18", normalize="video")
    np.testing.assert_array_equal(inputs.logits, logits)  # TGMJ mixes them in as they are
    assert inputs.features.shape == (6, 4)  # the logits are not features
    np.testing.assert_allclose(inputs.features.mean(axis=0), 0, atol=1e-6)
    write_group(path, "resnet18", {"spatial_features": spatial})
    assert load_sequence_inputs(path, "resnet18").logits is None


def test_per_video_standardization_removes_offsets_and_scales_of_a_video(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 4)).astype(np.float32)
    features[:, 3] = 7.0  # a column that never varies in this video
    z = standardize_per_video(features)
    np.testing.assert_allclose(z[:, :3].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :3].std(axis=0), 1, atol=1e-4)
    np.testing.assert_array_equal(z[:, 3], 0)  # constant: centered, not divided by ~0
    shifted = standardize_per_video(3.0 * features + 5.0)  # another animal, other lighting
    np.testing.assert_allclose(shifted[:, :3], z[:, :3], atol=1e-4)
    assert standardize_per_video(np.zeros((0, 4), np.float32)).shape == (0, 4)

    path = tmp_path / "v1_outputs.h5"
    write_group(
        path,
        "resnet18",
        {
            "spatial_features": features[:, :2],
            "flow_features": features[:, 2:],
            "logits": features[:, :3],
            "class_names": NAMES,
        },
    )
    stored = load_sequence_inputs(path, "resnet18", normalize="train")
    np.testing.assert_array_equal(stored.features, features)
    per_video = load_sequence_inputs(path, "resnet18", normalize="video")
    np.testing.assert_allclose(per_video.features, z, atol=1e-6)
    np.testing.assert_array_equal(per_video.logits, features[:, :3])  # logits stay as stored
    with pytest.raises(ValueError, match="normalize"):
        load_sequence_inputs(path, "resnet18", normalize="batch")


def test_statistics_and_class_frequencies_ignore_unlabeled_values():
    a, b = _video(4), _video(4, seed=1)
    a.labels[0] = -1
    mean, std = feature_statistics([a, b])
    assert mean[0] == pytest.approx(1.5) and std.shape == (2,)
    frac = positive_fraction([a, b])
    assert frac[1] == pytest.approx(4 / 7)
    assert frac[2] == 0


def test_several_offsets_give_overlapping_windows_from_each_grid():
    data = SequenceWindows([_video(20)], window=6)
    data.set_offsets([0, 3])
    assert sorted(start for _, start in data.index) == [-3, 0, 3, 6, 9, 12, 15, 18]
