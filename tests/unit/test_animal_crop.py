"""Animal-centred crops: background, tracking, cropping, and the spatial stream's inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.config import load_settings
from ethogram.data.animal_crop import (
    AnimalTracker,
    crop_frames,
    median_background,
    video_background,
)
from ethogram.data.preprocess import CACHE_DIR, prepare_frames, prepare_video
from ethogram.io.video import write_video


def _walking_animal(n_frames: int = 60, height: int = 96, width: int = 128):
    """A textured floor and a dark 12x8 animal walking right and down; its true centres."""
    rng = np.random.default_rng(0)
    floor = (170 + 20 * rng.random((height, width, 1))).astype(np.uint8).repeat(3, axis=2)
    frames = np.repeat(floor[None], n_frames, axis=0)
    centres = np.zeros((n_frames, 2))
    for t in range(n_frames):
        x0, y0 = 10 + int(1.5 * t), 20 + t // 2
        frames[t, y0 : y0 + 8, x0 : x0 + 12] = 30
        centres[t] = x0 + 5.5, y0 + 3.5
    return frames, centres, floor


def test_median_background_leaves_out_a_moving_animal():
    frames, _, floor = _walking_animal()
    np.testing.assert_array_equal(median_background(frames), floor)
    with pytest.raises(ValueError, match="expected frames"):
        median_background(np.zeros((0, 4, 4, 3), np.uint8))


def test_tracker_follows_the_animal_and_holds_its_place_when_it_disappears():
    frames, centres, floor = _walking_animal()
    tracker = AnimalTracker(floor)
    found = tracker.centres(frames)
    np.testing.assert_allclose(found, centres, atol=0.6)
    # a frame with no animal keeps the last centre; a small distractor does not win
    empty = floor.copy()
    fly = frames[-1].copy()
    fly[80:82, 100:102] = 0
    np.testing.assert_allclose(tracker.centres(np.stack([empty, fly])), centres[[-1, -1]], atol=0.6)
    # the first frame of a video without any animal: the frame centre
    assert tracker.__class__(floor).centres(floor[None]).tolist() == [[64.0, 48.0]]


def test_tracker_works_at_detection_scale_on_large_frames():
    frames, centres, floor = _walking_animal(10)
    big = np.repeat(np.repeat(frames, 4, axis=1), 4, axis=2)  # 512 x 384
    found = AnimalTracker(np.repeat(np.repeat(floor, 4, axis=0), 4, axis=1)).centres(big)
    np.testing.assert_allclose(found, 4 * centres + 1.5, atol=2.5)


def test_crop_is_centred_on_the_animal_and_repeats_edges_past_the_frame():
    frames, centres, _ = _walking_animal(4)
    crops = crop_frames(frames, centres, side=32, out_size=32)
    assert crops.shape == (4, 32, 32, 3) and crops.dtype == np.uint8
    dark = np.argwhere(crops[0, :, :, 0] < 100)
    np.testing.assert_allclose(dark.mean(axis=0), [15.5, 15.5], atol=1.0)
    corner = crop_frames(frames[:1], np.array([[0.0, 0.0]]), side=32, out_size=16)
    assert corner.shape == (1, 16, 16, 3)
    np.testing.assert_array_equal(
        corner[0, :4, :4], np.repeat(corner[0, :1, :1], 4, 0).repeat(4, 1)
    )


def _crop_settings(size: int = 32):
    return load_settings("fast", overrides=[f"features.input_size={size}", f"flow.size={size}",
                                            "features.n_flows=4", "features.crop=animal",
                                            "features.crop_size=0.25"])  # fmt: skip


def test_without_crop_motion_the_motion_stream_sees_the_whole_frame(tmp_path):
    frames, _, floor = _walking_animal()
    whole = prepare_frames([frames], load_settings("fast", overrides=["features.input_size=32",
                                                                      "flow.size=32"]))  # fmt: skip
    settings = _crop_settings().model_copy(deep=True)
    settings.features.crop_motion = False
    cropped = prepare_frames([frames[:30], frames[30:]], settings, background=floor)
    assert cropped.rgb.shape == whole.rgb.shape == (60, 32, 32, 3)
    dark_whole = (whole.rgb[..., 0] < 120).sum(axis=(1, 2)).mean()
    dark_crop = (cropped.rgb[..., 0] < 120).sum(axis=(1, 2)).mean()
    assert dark_crop > 8 * dark_whole  # a 128 px frame seen through a 32 px window
    # flow is computed from whole frames, not from the crops
    np.testing.assert_allclose(
        cropped.flow.astype(np.float32), whole.flow.astype(np.float32), atol=0.05
    )
    with pytest.raises(ValueError, match="background"):
        prepare_frames([frames], _crop_settings())


def test_video_background_and_crop_cache(tmp_path):
    frames, _, floor = _walking_animal(40)
    video = write_video(tmp_path / "clip" / "clip.mp4", frames, fps=30)
    background = video_background(video, n_samples=20)
    assert background.shape == floor.shape
    assert np.abs(background.astype(int) - floor).mean() < 6  # lossy video
    arrays = prepare_video(video, _crop_settings(), progress=False)
    again = prepare_frames([frames], _crop_settings(), background=background)
    assert np.abs(arrays.rgb.astype(int) - again.rgb).mean() < 6
    plain = prepare_video(video, load_settings("fast", overrides=["features.input_size=32",
                                                                  "flow.size=32"]),
                          progress=False)  # fmt: skip
    assert not np.array_equal(np.asarray(plain.rgb), np.asarray(arrays.rgb))
    assert len(list((tmp_path / "clip" / CACHE_DIR).glob("rgb_*.json"))) == 2


def test_unsuitable_video_warns_and_unresolved_auto_sees_whole_frames(tmp_path):
    from ethogram.data.animal_crop import inspect_video
    from ethogram.data.preprocess import background_image

    frames, _, floor = _walking_animal(40)
    moving = write_video(tmp_path / "moving.mp4", frames, fps=30)
    still = write_video(tmp_path / "still.mp4", frames[:1].repeat(40, 0), fps=30)
    _, check = inspect_video(moving, n_samples=20)
    assert check.detected == 1.0 and 0.05 < check.extent < 0.15 and check.crowded == 0.0
    assert check.problem(0.4) is None and "too much for a window" in check.problem(0.1)
    with pytest.warns(UserWarning, match="still.mp4: an animal was found in only 0%"):
        background_image(still, _crop_settings())
    # "auto" is decided when training starts; unresolved settings preprocess whole frames
    auto = load_settings("fast", overrides=["features.input_size=32", "flow.size=32"])
    assert auto.features.crop == "auto" and background_image(moving, auto) is None
    none = auto.model_copy(update={"features": auto.features.model_copy(update={"crop": "none"})})
    np.testing.assert_array_equal(prepare_frames([frames], auto).rgb,
                                  prepare_frames([frames], none).rgb)  # fmt: skip
