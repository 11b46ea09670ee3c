"""Clip sampling, splits, flow stacks, preprocessing caches and flow-aware augmentation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ethogram.config import load_settings
from ethogram.data.augment import Augmenter
from ethogram.data.clips import (
    ClipSampler,
    LabeledVideo,
    balance_weights,
    load_split,
    read_deepethogram_split,
    save_split,
    split_videos,
)
from ethogram.data.preprocess import CACHE_DIR, VideoArrays, prepare_frames, prepare_video
from ethogram.data.stacks import StackAssembler, stack_indices
from ethogram.errors import LabelError
from ethogram.io.video import write_video


def _settings(size: int = 32, n_flows: int = 4):
    return load_settings(
        "fast", overrides=[f"features.input_size={size}", f"flow.size={size}",
                           f"features.n_flows={n_flows}"]
    )  # fmt: skip


def _moving_square(n_frames: int = 40, size: int = 48) -> np.ndarray:
    frames = np.full((n_frames, size, size, 3), 40, np.uint8)
    for t in range(n_frames):
        x = 4 + (t % (size - 16))
        frames[t, 16:28, x : x + 10] = 220
    return frames


def _arrays(n_frames: int, k: int = 3) -> VideoArrays:
    rgb = np.arange(n_frames, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 3), np.uint8)
    flow = np.arange(n_frames - 1, dtype=np.float16)[:, None, None, None] * np.ones(
        (1, 2, 4, 4), np.float16
    )
    return VideoArrays(rgb, flow)


def test_stack_indices_are_centered_and_edge_padded():
    idx = stack_indices([0, 5, 9], n=4, total=10)
    assert idx.tolist() == [[0, 0, 0, 1], [3, 4, 5, 6], [7, 8, 9, 9]]
    assert stack_indices([0, 1], n=1, total=2).tolist() == [[0], [1]]


def test_clip_sampling_never_picks_unlabeled_frames():
    labels = np.zeros((50, 3), np.int8)
    labels[:, 0] = 1
    labels[10:20] = -1
    labels[30, 2] = -1  # one unlabeled value makes the whole frame unlabeled
    video = LabeledVideo("a", _arrays(50), labels)
    sampler = ClipSampler([video], n_rgb=1, n_flows=4)
    assert len(sampler) == 50 - 11
    rng = np.random.default_rng(0)
    for items in sampler.random_batches(20, 16, rng):
        batch = sampler.batch(items)
        assert (batch.labels >= 0).all()
        assert not set(batch.frame.tolist()) & ({30} | set(range(10, 20)))
        # the stacks are those of the sampled frames
        assert (batch.rgb[:, 0, 0, 0, 0] == batch.frame).all()


def test_video_without_labeled_frames_gives_a_clear_error():
    video = LabeledVideo("a", _arrays(10), np.full((10, 3), -1, np.int8))
    with pytest.raises(LabelError, match="no fully labeled frames"):
        ClipSampler([video])


def test_split_by_video_is_seeded_and_saved(tmp_path):
    stems = [f"v{i}" for i in range(10)]
    first, note = split_videos(stems, (0.6, 0.2, 0.2), seed=3)
    again, _ = split_videos(list(reversed(stems)), (0.6, 0.2, 0.2), seed=3)
    other, _ = split_videos(stems, (0.6, 0.2, 0.2), seed=4)
    assert first == again and first != other
    assert [len(first[k]) for k in ("train", "val", "test")] == [6, 2, 2]
    assert sorted(sum(first.values(), [])) == stems
    save_split(tmp_path / "split.yaml", first, note)
    assert load_split(tmp_path / "split.yaml") == first


def test_two_videos_split_into_train_and_val_and_say_so():
    split, note = split_videos(["a", "b"], (0.6, 0.2, 0.2), seed=0)
    assert len(split["train"]) == 1 and len(split["val"]) == 1 and split["test"] == []
    assert "no test videos" in note


def test_deepethogram_split_is_used_only_if_it_names_every_video(tmp_path):
    path = tmp_path / "split.yaml"
    path.write_text(
        "train: [vid0, vid2]\nval: [vid1]\ntest: []\nmetadata: {split: [0.8, 0.2, 0]}\n"
    )
    split, _ = read_deepethogram_split(path, ["vid0", "vid1"])
    assert split == {"train": ["vid0"], "val": ["vid1"], "test": []}
    split, reason = read_deepethogram_split(path, ["vid0", "vid1", "new"])
    assert split is None and "new" in reason


def test_streamed_stacks_equal_whole_video_stacks_across_chunk_borders():
    settings = _settings(n_flows=4)
    frames = _moving_square(40)
    whole = prepare_frames([frames], settings)
    assembler = StackAssembler(n_rgb=3, n_flows=4)
    from ethogram.data.preprocess import FramePreprocessor

    pre = FramePreprocessor(settings)
    got_rgb, got_flow, firsts = [], [], []
    for start in range(0, 40, 7):  # chunks smaller than the stack
        assembler.add(*pre.push(frames[start : start + 7]))
        while (out := assembler.take(max_frames=5)) is not None:
            firsts.append(out[0])
            got_rgb.append(out[1])
            got_flow.append(out[2])
    assembler.add(np.zeros((0, 32, 32, 3), np.uint8), pre.finish())
    assembler.finish()
    while (out := assembler.take()) is not None:
        got_rgb.append(out[1])
        got_flow.append(out[2])
    rgb, flow = whole.stacks(np.arange(40), 3, 4)
    assert firsts[0] == 0
    np.testing.assert_array_equal(np.concatenate(got_rgb), rgb)
    np.testing.assert_array_equal(np.concatenate(got_flow), flow)
    # the first frame's motion stack repeats flow 0 (edge padding); flow shows the motion
    np.testing.assert_array_equal(flow[0, 0], flow[0, 2])
    assert np.abs(flow[10, :, 0]).mean() > 0.1


def test_video_cache_is_reused_and_partial_cache_is_ignored(tmp_path):
    video = write_video(tmp_path / "clip" / "clip.mp4", _moving_square(30), fps=30)
    settings = _settings()
    first = prepare_video(video, settings, progress=False)
    assert first.rgb.shape == (30, 32, 32, 3) and first.flow.shape == (29, 2, 32, 32)
    cache = tmp_path / "clip" / CACHE_DIR
    metas = sorted(cache.glob("*.json"))
    assert len(metas) == 2
    stamp = {p: p.stat().st_mtime_ns for p in cache.iterdir()}
    second = prepare_video(video, settings, progress=False)
    assert {p: p.stat().st_mtime_ns for p in cache.iterdir()} == stamp  # not recomputed
    np.testing.assert_array_equal(np.asarray(second.flow), np.asarray(first.flow))
    # a truncated data file does not look complete: it is recomputed
    flow_meta = next(p for p in metas if p.name.startswith("flow_"))
    raw = flow_meta.with_suffix(".raw")
    expected = np.array(first.flow)
    data = raw.read_bytes()
    del first, second
    raw.unlink()  # a new file: open memmaps of the old one stay valid
    raw.write_bytes(data[:100])
    third = prepare_video(video, settings, progress=False)
    np.testing.assert_array_equal(np.asarray(third.flow), expected)
    assert json.loads(flow_meta.read_text())["shape"] == [29, 2, 32, 32]
    # other settings get another cache
    prepare_video(video, _settings(size=16), progress=False)
    assert len(list(cache.glob("*.json"))) == 4


def test_motion_stream_can_take_coarser_flow_than_the_spatial_stream(tmp_path):
    frames = _moving_square(30)
    same = prepare_frames([frames], _settings(size=32))
    settings = load_settings("fast", overrides=["features.input_size=32", "flow.size=32",
                                                "features.flow_input_size=16"])  # fmt: skip
    assert settings.features.motion_size == 16 and _settings().features.motion_size == 32
    coarse = prepare_frames([frames], settings)
    assert coarse.rgb.shape == (30, 32, 32, 3) and coarse.flow.shape == (29, 2, 16, 16)
    np.testing.assert_array_equal(coarse.rgb, same.rgb)
    # the same flow, averaged over 2x2 pixels (INTER_AREA)
    pooled = same.flow.astype(np.float32).reshape(29, 2, 16, 2, 16, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(coarse.flow.astype(np.float32), pooled, atol=2e-3)
    assert np.abs(coarse.flow).max() > 0.1
    # cached apart from the full-size flow, sharing the RGB cache
    video = write_video(tmp_path / "clip" / "clip.mp4", frames, fps=30)
    prepare_video(video, _settings(size=32), progress=False)
    cached = prepare_video(video, settings, progress=False)
    assert cached.flow.shape == (29, 2, 16, 16)
    assert len(list((tmp_path / "clip" / CACHE_DIR).glob("*.json"))) == 3


def test_horizontal_flip_negates_dx_and_mirrors_both_streams():
    rgb = torch.randn(2, 3, 8, 8)
    flow = torch.randn(2, 4, 8, 8)
    flip = Augmenter(hflip=1.0, vflip=0.0, max_rotation_deg=0, min_scale=1.0, brightness=0,
                     contrast=0)  # fmt: skip
    rgb_out, flow_out = flip(rgb, flow, torch.Generator().manual_seed(0))
    torch.testing.assert_close(rgb_out, rgb.flip(-1), atol=1e-5, rtol=0)
    expected = flow.flip(-1)
    expected[:, 0::2] *= -1
    torch.testing.assert_close(flow_out, expected, atol=1e-5, rtol=0)


def test_rotation_by_90_degrees_rotates_flow_vectors():
    flow = torch.zeros(1, 2, 8, 8)
    flow[:, 0] = 1.0  # everything moves right
    from ethogram.data.augment import _warp, geometric_transform

    matrix = geometric_transform(torch.ones(1), torch.ones(1), torch.tensor([np.pi / 2]),
                                 torch.ones(1))  # fmt: skip
    theta = torch.cat([matrix, torch.zeros(1, 2, 1)], 2)
    warped = _warp(flow, theta)
    vectors = torch.einsum("bij,bjhw->bihw", torch.linalg.inv(matrix), warped)
    # motion "right" in the input becomes motion along -y or +y, with no x component
    assert vectors[0, 0, 3:5, 3:5].abs().max() < 1e-4
    assert vectors[0, 1, 3:5, 3:5].abs().min() > 0.99


def _photometric_only(**kwargs) -> Augmenter:
    return Augmenter(hflip=0, vflip=0, max_rotation_deg=0, min_scale=1.0, brightness=0,
                     contrast=0, **kwargs)  # fmt: skip


def test_invert_turns_a_dark_animal_on_a_light_floor_into_a_light_one_and_leaves_flow_alone():
    rgb = torch.full((1, 6, 8, 8), 1.0)  # two frames, light floor
    rgb[:, :, 2:4, 2:4] = -1.0  # dark animal
    flow = torch.randn(1, 4, 8, 8)
    rgb_out, flow_out = _photometric_only(invert=1.0)(rgb, flow, torch.Generator().manual_seed(0))
    mean = rgb.mean()
    torch.testing.assert_close(rgb_out, 2 * mean - rgb, atol=1e-5, rtol=0)
    assert rgb_out[0, 0, 2, 2] > rgb_out[0, 0, 0, 0]  # the animal is now the bright part
    torch.testing.assert_close(flow_out, flow, atol=1e-5, rtol=0)
    unchanged, _ = _photometric_only(invert=0.0)(rgb, flow, torch.Generator().manual_seed(0))
    torch.testing.assert_close(unchanged, rgb, atol=1e-5, rtol=0)


def test_color_jitter_changes_channels_unequally_in_both_rgb_layouts():
    rgb = torch.randn(4, 3, 8, 8)
    out, _ = _photometric_only(color=0.5)(rgb, None, torch.Generator().manual_seed(1))
    change = (out - rgb).abs().mean(dim=(2, 3))  # (clip, channel)
    assert change.min() > 0 and not torch.allclose(change[:, 0], change[:, 1])
    clips = rgb.view(4, 3, 1, 8, 8)  # (B, 3, n_rgb, S, S) of 3D networks: same transform
    out_3d, _ = _photometric_only(color=0.5)(clips, None, torch.Generator().manual_seed(1))
    torch.testing.assert_close(out_3d.view(4, 3, 8, 8), out, atol=1e-5, rtol=0)


def test_balanced_draws_give_each_behavior_its_share_and_the_loss_weighs_what_is_drawn():
    from ethogram.train.losses import positive_weights

    n = 1000
    classes = np.zeros(n, int)
    classes[600:960], classes[960:] = 1, 2  # 60 %, 36 %, 4 %
    video = LabeledVideo("a", _arrays(n), np.eye(3, dtype=np.int8)[classes])
    sampler = ClipSampler([video], 1, 2)
    labels = sampler.label_matrix()
    rng = np.random.default_rng(0)
    for power, expected in (
        (1.0, [1 / 3] * 3),
        (0.5, np.sqrt([0.6, 0.36, 0.04]) / np.sqrt([0.6, 0.36, 0.04]).sum()),
    ):
        weights = balance_weights(labels, power)
        drawn = labels[np.concatenate(sampler.random_batches(300, 32, rng, weights))]
        np.testing.assert_allclose(drawn.mean(axis=0), expected, atol=0.02)
        np.testing.assert_allclose(
            positive_weights(labels, sample_weights=weights), 1 / np.array(expected) - 1, rtol=1e-6
        )
    uniform = balance_weights(labels, 0.0)
    np.testing.assert_array_equal(uniform, np.ones(n))
    np.testing.assert_array_equal(positive_weights(labels, sample_weights=uniform),
                                  positive_weights(labels))  # fmt: skip
