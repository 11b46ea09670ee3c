"""Validation on blocks inside every video: placement, leakage into training, the split chosen."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ethogram.config import load_settings
from ethogram.data.blocks import block_mask, choose_blocks, clip_reach
from ethogram.data.clips import ClipSampler, LabeledVideo
from ethogram.data.preprocess import VideoArrays
from ethogram.data.sequence import SequenceInputs, with_block_labels, without_blocks
from ethogram.sample import REARING, simulate
from ethogram.train.splits import TrainingSplit, choose_training_split, load_training_split


def _numbered_arrays(n_frames: int) -> VideoArrays:
    """Frames whose first pixel holds their index, flows whose first value holds theirs."""
    rgb = np.zeros((n_frames, 4, 4, 3), np.uint8)
    rgb[:, 0, 0, 0], rgb[:, 0, 0, 1] = np.arange(n_frames) % 256, np.arange(n_frames) // 256
    flow = np.zeros((n_frames - 1, 2, 4, 4), np.float16)
    flow[:, 0, 0, 0] = np.arange(n_frames - 1)
    return VideoArrays(rgb, flow)


def _sample_labels(n_videos: int = 4, n_frames: int = 1800) -> dict[str, np.ndarray]:
    return {f"v{i}": simulate(n_frames, seed=3, index=i).labels() for i in range(n_videos)}


@pytest.mark.parametrize("n_rgb, n_flows", [(1, 10), (11, 10), (1, 4), (3, 1)])
def test_no_training_clip_reads_a_frame_of_a_validation_block(n_rgb, n_flows):
    labels = _sample_labels(2, 900)
    blocks = choose_blocks(labels, 0.2, 100, clip_reach(n_rgb, n_flows), seed=1)
    training = TrainingSplit("blocks", {"train": ["v0", "v1"], "val": ["v0", "v1"], "test": []},
                             blocks)  # fmt: skip
    videos = [LabeledVideo(s, _numbered_arrays(900), labels[s]) for s in ("v0", "v1")]
    parts = training.feature_videos(videos, n_rgb, n_flows)
    train = ClipSampler(parts["train"], n_rgb, n_flows)
    batch = train.batch(np.arange(len(train)))
    for v, stem in enumerate(("v0", "v1")):
        inside = block_mask(900, blocks[stem])
        rows = batch.video == v
        frames_read = batch.rgb[rows, :, 0, 0, 0].astype(int) + 256 * batch.rgb[
            rows, :, 0, 0, 1
        ].astype(int)
        flows_read = batch.flow[rows, :, 0, 0, 0].astype(int)
        assert not inside[frames_read].any()
        assert not inside[flows_read].any() and not inside[flows_read + 1].any()  # flow i: i, i+1
        assert rows.sum() > 0.7 * 900  # the rest trains
    val = ClipSampler(parts["val"], n_rgb, n_flows)
    for v, stem in enumerate(("v0", "v1")):
        expected = np.flatnonzero(block_mask(900, blocks[stem]))
        np.testing.assert_array_equal(val.frame_index[val.video_index == v], expected)


def test_blocks_hold_the_fraction_apart_from_each_other_with_the_rare_behavior_in_validation():
    labels = _sample_labels(4, 1800)
    reach = clip_reach(1, 10)
    blocks = choose_blocks(labels, 0.2, 150, reach, seed=0)
    assert blocks == choose_blocks(labels, 0.2, 150, reach, seed=0)
    rare_in_val = 0
    for stem, video_blocks in blocks.items():
        assert sum(e - s for s, e in video_blocks) == pytest.approx(0.2 * 1800, abs=2)
        starts_ends = sorted(video_blocks)
        assert starts_ends[0][0] >= 0 and starts_ends[-1][1] <= 1800
        for (_, end), (start, _) in zip(starts_ends, starts_ends[1:], strict=False):
            assert start - end > 2 * max(reach)  # training frames between blocks
        rare_in_val += int(labels[stem][block_mask(1800, video_blocks), REARING].sum())
    rare_total = sum(int(v[:, REARING].sum()) for v in labels.values())
    assert 0.1 * rare_total <= rare_in_val <= 0.35 * rare_total


def test_a_video_labeled_in_part_validates_on_its_labeled_frames():
    full = _sample_labels(1, 2400)["v0"]
    part = full.copy()
    part[1400:] = -1  # the user labeled the first 1400 frames
    part[:100] = -1  # and skipped the first 100
    reach = clip_reach(1, 10)
    for seed in range(5):
        blocks = choose_blocks({"v0": part}, 0.2, 150, reach, seed=seed)["v0"]
        assert blocks and all(100 <= s and e <= 1400 for s, e in blocks)
        assert sum(e - s for s, e in blocks) == pytest.approx(0.2 * 1300, abs=2)
    # a video labeled throughout: the blocks span all of it, as before
    assert choose_blocks({"v0": full}, 0.2, 150, reach, seed=0)["v0"][-1][1] > 1400
    assert choose_blocks({"v0": -np.ones_like(full)}, 0.2, 150, reach) == {"v0": []}


def test_short_videos_get_no_blocks():
    labels = {"short": np.eye(3, dtype=np.int8)[np.zeros(100, int)]}
    assert choose_blocks(labels, 0.2, 150, (5, 5)) == {"short": []}


def _project(tmp_path):
    return SimpleNamespace(data_dir=tmp_path)


@pytest.mark.parametrize("n_videos, mode", [(4, "blocks"), (5, "blocks"), (6, "videos")])
def test_auto_validates_on_blocks_with_fewer_than_six_videos(tmp_path, n_videos, mode):
    labels = _sample_labels(n_videos, 900)
    settings = load_settings("fast", overrides=["train.validation=auto"])
    split = choose_training_split(_project(tmp_path), sorted(labels), labels, settings)
    assert split.mode == mode
    if mode == "blocks":
        assert split.videos["train"] == sorted(labels) and split.videos["test"] == []
        assert "every labeled video" in split.reason and f"only {n_videos}" in split.reason
        assert "would train on" in split.reason
    else:
        assert not set(split.videos["train"]) & set(split.videos["val"])
        assert "whole videos" in split.reason
    forced = load_settings("fast", overrides=["train.validation=videos"])
    assert (
        choose_training_split(_project(tmp_path), sorted(labels), labels, forced).mode == "videos"
    )


def test_videos_too_short_for_blocks_are_split_by_video_and_the_reason_says_so(tmp_path):
    labels = {f"v{i}": simulate(80, seed=0, index=i).labels() for i in range(3)}
    settings = load_settings("fast", overrides=["train.validation=blocks"])
    split = choose_training_split(_project(tmp_path), sorted(labels), labels, settings)
    assert split.mode == "videos" and "too short" in split.reason


def test_split_yaml_keeps_the_blocks(tmp_path):
    labels = _sample_labels(2, 900)
    settings = load_settings("fast", overrides=["train.validation=blocks"])
    split = choose_training_split(_project(tmp_path), sorted(labels), labels, settings)
    split.save(tmp_path / "split.yaml")
    again = load_training_split(tmp_path / "split.yaml")
    assert again.mode == "blocks" and again.blocks == split.blocks
    assert again.videos == split.videos and again.reason == split.reason


def test_sequence_training_copy_hides_the_blocks_features_and_labels():
    n = 300
    labels = np.eye(3, dtype=np.int8)[np.arange(n) % 3]
    video = SequenceInputs("v", np.ones((n, 6), np.float32), np.ones((n, 3), np.float32), labels)
    blocks = [(100, 160)]
    train = without_blocks(video, blocks)
    assert (train.features[100:160] == 0).all() and (train.logits[100:160] == 0).all()
    assert (train.labels[100:160] == -1).all()
    np.testing.assert_array_equal(train.labels[:100], video.labels[:100])
    assert (train.features[:100] == 1).all() and (video.features == 1).all()  # a copy
    val = with_block_labels(video, blocks)
    assert (val.labels[:100] == -1).all() and (val.labels[160:] == -1).all()
    np.testing.assert_array_equal(val.labels[100:160], video.labels[100:160])
    np.testing.assert_array_equal(val.features, video.features)  # context stays input
