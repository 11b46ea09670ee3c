"""Synthetic sample videos: determinism, labels, behaviors visible in the pixels, files, CLI."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from ethogram.bouts import find_bouts
from ethogram.errors import EthogramError
from ethogram.sample import (
    BACKGROUND,
    BENCHMARK_STYLES,
    GROOMING,
    LOCOMOTION,
    REARING,
    SAMPLE_BEHAVIORS,
    SITTING,
    STILL,
    STYLES,
    TURNING,
    get_style,
    make_sample,
    render_sample,
    simulate,
)
from tests.conftest import run_cli, snapshot

LONG_SEED, LONG_SIZE, LONG_FRAMES = 1, 96, 1800


@pytest.fixture(scope="module")
def long_video():
    """One minute of video with every behavior, its labels, its trajectory and pixel measures."""
    frames, labels = render_sample(LONG_FRAMES, seed=LONG_SEED, size=LONG_SIZE)
    traj = simulate(LONG_FRAMES, seed=LONG_SEED, size=LONG_SIZE)
    return frames, labels, traj, _measure(frames, traj.body_length_px)


def _measure(frames: np.ndarray, body_px: float) -> dict:
    """Per-frame measures from pixels only: animal centroid and axis, change around the animal.

    The local change is the mean absolute difference of consecutive (slightly blurred) frames in
    a window around the animal, minus the median difference over the frame (sensor noise).
    """
    size = frames.shape[1]
    pixels = frames.astype(np.float32)
    gray = pixels.mean(-1)
    background = np.median(pixels[::10], axis=0)
    kernel = np.ones((3, 3), np.uint8)
    fg = np.abs(pixels - background).sum(-1) > 60
    fg = np.stack([cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, kernel) for m in fg]) > 0
    yy, xx = np.mgrid[0:size, 0:size]
    n = fg.sum((1, 2)).clip(1)
    cx, cy = (fg * xx).sum((1, 2)) / n, (fg * yy).sum((1, 2)) / n
    dx, dy = xx - cx[:, None, None], yy - cy[:, None, None]
    mxx, myy, mxy = ((fg * m).sum((1, 2)) / n for m in (dx * dx, dy * dy, dx * dy))
    axis = 0.5 * np.arctan2(2 * mxy, mxx - myy)
    blurred = np.stack([cv2.GaussianBlur(g, (0, 0), 1.0) for g in gray])
    change = np.abs(np.diff(blurred, axis=0))
    r = int(0.7 * body_px)
    noise_floor = np.median(change.reshape(len(change), -1), axis=1)  # most pixels are floor
    local = [
        change[
            t - 1, max(int(cy[t]) - r, 0) : int(cy[t]) + r, max(int(cx[t]) - r, 0) : int(cx[t]) + r
        ].mean()
        - noise_floor[t - 1]
        for t in range(1, len(frames))
    ]
    diff = np.abs(np.diff(gray, axis=0)).mean((1, 2))
    return {
        "cx": cx,
        "cy": cy,
        "axis": axis,
        "local_change": np.concatenate([local[:1], local]),
        "frame_diff": np.concatenate([diff[:1], diff]),
    }


def _lagged(measures: dict, behavior: np.ndarray, lag: int = 5):
    """Centroid speed (px/frame) and axis rotation (rad/frame) over ``lag`` frames within a bout."""
    cx, cy, axis = measures["cx"], measures["cy"], measures["axis"]
    speed = np.hypot(cx[lag:] - cx[:-lag], cy[lag:] - cy[:-lag]) / lag
    rotation = np.abs((axis[lag:] - axis[:-lag] + np.pi / 2) % np.pi - np.pi / 2) / lag
    same = behavior[lag:] == behavior[:-lag]
    return speed, rotation, same, behavior[:-lag]


def _best_band_f1(score: np.ndarray, positive: np.ndarray) -> float:
    """Best F1 of any rule "score in [lo, hi]", the band chosen on the same data (an oracle)."""
    edges = np.unique(np.quantile(score, np.linspace(0, 1, 41)))
    pos, every = np.sort(score[positive]), np.sort(score)
    best = 0.0
    for i, lo in enumerate(edges):
        hi = edges[i + 1 :]
        tp = np.searchsorted(pos, hi, "right") - np.searchsorted(pos, lo, "left")
        predicted = np.searchsorted(every, hi, "right") - np.searchsorted(every, lo, "left")
        best = max(best, float((2 * tp / np.maximum(predicted + len(pos), 1)).max(initial=0)))
    return best


def test_same_seed_gives_identical_frames_and_labels():
    frames_a, labels_a = render_sample(60, seed=3, size=64)
    frames_b, labels_b = render_sample(60, seed=3, size=64)
    frames_c, _ = render_sample(60, seed=4, size=64)
    assert frames_a.dtype == np.uint8 and frames_a.shape == (60, 64, 64, 3)
    np.testing.assert_array_equal(frames_a, frames_b)
    np.testing.assert_array_equal(labels_a, labels_b)
    assert not np.array_equal(frames_a, frames_c)


def test_labels_have_exactly_one_behavior_per_frame_background_first():
    labels = simulate(3000, seed=0).labels()
    assert SAMPLE_BEHAVIORS[0] == "background"
    assert labels.dtype == np.int8 and labels.shape == (3000, len(SAMPLE_BEHAVIORS))
    assert set(np.unique(labels)) == {0, 1}
    np.testing.assert_array_equal(labels.sum(axis=1), 1)
    np.testing.assert_array_equal(labels[:, 0] == 1, labels[:, 1:].sum(axis=1) == 0)


def test_long_video_has_every_behavior_in_bouts_of_half_a_second_to_four():
    traj = simulate(5400, seed=0)
    labels = traj.labels()
    assert (labels.sum(axis=0) > 0).all()
    for k in range(1, len(SAMPLE_BEHAVIORS)):
        bouts = find_bouts(labels[:, k])
        inner = bouts[(bouts[:, 0] > 0) & (bouts[:, 1] < len(labels))]  # not cut by the ends
        seconds = (inner[:, 1] - inner[:, 0]) / traj.fps
        assert len(seconds) >= 2, SAMPLE_BEHAVIORS[k]
        assert seconds.min() >= 0.5 - 1e-9 and seconds.max() <= 4 + 1e-9, SAMPLE_BEHAVIORS[k]


def test_rearing_is_rare_and_the_others_are_common():
    fractions = np.mean([simulate(1800, seed=s).labels().mean(axis=0) for s in range(8)], axis=0)
    assert 0.01 < fractions[REARING] < 0.08
    assert (fractions[[BACKGROUND, LOCOMOTION, GROOMING, TURNING]] > 0.07).all()


def test_locomotion_moves_the_animal_and_grooming_does_not(long_video):
    _, labels, _, measures = long_video
    speed, _, same, behavior = _lagged(measures, labels.argmax(1))
    walking = np.median(speed[same & (behavior == LOCOMOTION)])
    grooming = np.median(speed[same & (behavior == GROOMING)])
    assert walking > 0.5  # px / frame at 96 px
    assert walking > 8 * grooming


def test_turning_rotates_the_body_faster_than_walking_or_resting(long_video):
    _, labels, _, measures = long_video
    _, rotation, same, behavior = _lagged(measures, labels.argmax(1))
    turning = np.median(rotation[same & (behavior == TURNING)])
    assert np.degrees(turning) > 4  # degrees / frame
    for other in (LOCOMOTION, BACKGROUND, GROOMING):
        assert turning > 2 * np.median(rotation[same & (behavior == other)])


def test_grooming_changes_pixels_locally_more_than_rest_that_looks_the_same(long_video):
    _, labels, traj, measures = long_video
    behavior, local = labels.argmax(1), measures["local_change"]
    resting = (behavior == BACKGROUND) & np.isin(traj.mode, [STILL, SITTING])
    assert resting.sum() > 60 and (behavior == GROOMING).sum() > 60
    assert np.median(local[behavior == GROOMING]) > 3 * np.median(local[resting])


def test_frame_difference_threshold_rule_does_not_solve_the_task(long_video):
    _, labels, _, measures = long_video
    score = np.convolve(measures["frame_diff"], np.ones(5) / 5, mode="same")
    f1 = [_best_band_f1(score, labels[:, k] == 1) for k in range(1, len(SAMPLE_BEHAVIORS))]
    assert np.mean(f1) < 0.7, dict(zip(SAMPLE_BEHAVIORS[1:], np.round(f1, 2), strict=True))
    assert f1[REARING - 1] < 0.5  # still, like rest


def test_make_sample_writes_videos_and_labels_that_round_trip(tmp_path):
    from ethogram.io.labels import read_labels
    from ethogram.io.video import read_video

    written = make_sample(tmp_path, n_videos=2, n_frames=40, seed=5, size=64, fps=25)
    assert [v.stem for v in written] == ["sample_000", "sample_001"]
    for i, video in enumerate(written):
        assert video.video_path == tmp_path / "videos" / f"{video.stem}.mp4"
        assert video.labels_path == tmp_path / "labels" / f"{video.stem}_labels.csv"
        frames = read_video(video.video_path)
        table = read_labels(video.labels_path)
        expected_frames, expected_labels = render_sample(40, seed=5, size=64, fps=25, index=i)
        assert frames.shape == (40, 64, 64, 3) == expected_frames.shape
        assert table.behaviors == SAMPLE_BEHAVIORS
        np.testing.assert_array_equal(table.values, expected_labels)
        error = np.abs(frames.astype(float) - expected_frames).mean()
        assert error < 6, error  # H.264, not another video


def test_make_sample_refuses_to_overwrite_and_changes_nothing(tmp_path):
    make_sample(tmp_path, n_videos=2, n_frames=8, size=32)
    before = snapshot(tmp_path)
    with pytest.raises(EthogramError, match="sample_000.mp4 already exists"):
        make_sample(tmp_path, n_videos=2, n_frames=8, size=32, seed=1)
    assert snapshot(tmp_path) == before
    make_sample(tmp_path, n_videos=2, n_frames=8, size=32, seed=1, overwrite=True)
    assert snapshot(tmp_path) != before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 63}, "even frame size"),
        ({"n_frames": 0}, "at least 1 frame"),
        ({"n_videos": 0}, "at least 1 video"),
    ],
)
def test_make_sample_rejects_bad_arguments_with_a_clear_error(tmp_path, kwargs, message):
    with pytest.raises(EthogramError, match=message):
        make_sample(tmp_path, **{"n_videos": 1, "n_frames": 4, "size": 32, **kwargs})
    assert not any(tmp_path.iterdir())


def test_cli_writes_the_sample_and_refuses_to_overwrite_it(tmp_path):
    out = tmp_path / "demo"
    args = ["sample", out, "--videos", "2", "--frames", "12", "--size", "32", "--seed", "2"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    for stem in ("sample_000", "sample_001"):
        assert (out / "videos" / f"{stem}.mp4").is_file()
        assert (out / "labels" / f"{stem}_labels.csv").is_file()
        assert stem in result.stdout
    assert "locomotion" in result.stdout and "total" in result.stdout
    before = snapshot(out)
    again = run_cli(*args)
    assert again.returncode == 2
    assert "sample_000.mp4 already exists" in again.stderr and "--overwrite" in again.stderr
    assert "Traceback" not in again.stderr
    assert snapshot(out) == before
    assert run_cli(*args, "--overwrite", "--quiet").returncode == 0


# ---- appearance styles ---------------------------------------------------------------------------
STYLE_CASES = [*STYLES, "random-1", "random-2", "far-camera+noisy"]


def _contrast_at_animal(frames: np.ndarray, traj) -> float:
    """Median over frames of |mean of a disk on the animal - mean of a ring around it|."""
    size = frames.shape[1]
    yy, xx = np.mgrid[0:size, 0:size]
    gray = frames.astype(np.float32).mean(-1)
    L = traj.body_length_px
    out = []
    for t in range(len(frames)):
        d = np.hypot(xx - traj.x_px[t], yy - traj.y_px[t])
        disk, ring = d < 0.18 * L, (d > 0.9 * L) & (d < 1.3 * L)
        if disk.any() and ring.any():
            out.append(abs(gray[t][disk].mean() - gray[t][ring].mean()))
    return float(np.median(out))


@pytest.mark.parametrize("name", STYLE_CASES)
def test_every_style_renders_its_exact_labels_with_the_animal_where_it_is(name):
    frames, labels = render_sample(60, seed=0, size=64, index=1, style=name)
    traj = simulate(60, seed=0, size=64, index=1, style=name)
    style = get_style(name)
    assert frames.shape == (60, 64, 64, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(labels, traj.labels())
    assert labels.shape == (60, len(SAMPLE_BEHAVIORS))
    np.testing.assert_array_equal(labels.sum(axis=1), 1)
    assert traj.fps == (style.fps or 30)
    assert _contrast_at_animal(frames, traj) > 12, name  # the animal is drawn where it is
    shifted = dataclasses.replace(traj, x_px=traj.x_px + 2 * traj.body_length_px)
    assert _contrast_at_animal(frames, shifted) < 0.5 * _contrast_at_animal(frames, traj)


def test_default_style_is_the_original_look():
    frames, labels = render_sample(30, seed=4, size=64, index=2)
    styled, styled_labels = render_sample(30, seed=4, size=64, index=2, style="default")
    np.testing.assert_array_equal(frames, styled)
    np.testing.assert_array_equal(labels, styled_labels)
    assert not get_style("default").changes_scene


@pytest.mark.parametrize("name", ["white-mouse", "far-camera", "noisy", "compressed", "blurry"])
def test_a_style_of_the_same_frame_rate_changes_the_look_not_the_behavior(name):
    frames, labels = render_sample(30, seed=2, size=64)
    styled, styled_labels = render_sample(30, seed=2, size=64, style=name)
    np.testing.assert_array_equal(labels, styled_labels)
    assert np.abs(frames.astype(float) - styled).mean() > 1.0


def test_styles_combine_later_ones_winning_and_random_styles_are_seeded():
    combined = get_style("far-camera+close-camera+noisy")
    assert combined.zoom == 1.2 and combined.noise == 4.0
    assert get_style("random-3") == get_style("random-3")
    assert get_style("random-3") != get_style("random-4")
    assert get_style("random", seed=5) == dataclasses.replace(get_style("random-5"))
    assert set(BENCHMARK_STYLES["choosing"]).isdisjoint(BENCHMARK_STYLES["held_out"])
    assert all(name in STYLES for names in BENCHMARK_STYLES.values() for name in names)


def test_an_unknown_style_is_an_error_naming_the_known_ones():
    with pytest.raises(EthogramError, match="unknown sample style 'nope'.*white-mouse"):
        render_sample(4, size=32, style="nope")


def test_cli_writes_a_style_at_its_frame_rate(tmp_path):
    from ethogram.io.video import video_info

    out = tmp_path / "styled"
    result = run_cli("sample", out, "--videos", "1", "--frames", "8", "--size", "32",
                     "--style", "white-rat", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "style white-rat" in result.stdout
    assert video_info(out / "videos" / "sample_000.mp4").fps == pytest.approx(15)
