"""Flow inside the animal's window (features.crop_motion): the motion stream sees it large."""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.config import load_settings
from ethogram.data.preprocess import CACHE_DIR, cache_key, prepare_frames, prepare_video
from ethogram.data.window_flow import WindowFlowStream, window_gray
from ethogram.errors import FlowError
from ethogram.io.video import write_video


def _wiggling_animal(n_frames: int = 24, side: int = 192):
    """A textured floor and a textured 16 px animal that steps 2 px right and back, in place."""
    rng = np.random.default_rng(1)
    floor = (160 + 60 * rng.random((side, side, 1))).astype(np.uint8).repeat(3, axis=2)
    texture = (40 + 60 * rng.random((16, 16, 1))).astype(np.uint8).repeat(3, axis=2)
    frames = np.repeat(floor[None], n_frames, axis=0)
    for t in range(n_frames):
        x0 = 90 + 2 * (t % 2)
        frames[t, 88:104, x0 : x0 + 16] = texture
    return frames, floor


def _settings(crop_motion: bool):
    return load_settings("fast", overrides=[
        "features.input_size=32", "flow.size=32", "features.n_flows=4", "features.crop=animal",
        "features.crop_size=0.25", f"features.crop_motion={str(crop_motion).lower()}"])  # fmt: skip


def _animal_motion(flow: np.ndarray) -> float:
    """Largest horizontal motion (network units) of each field, median over the fields."""
    return float(np.median(np.abs(flow[:, 0].astype(np.float32)).max(axis=(1, 2))))


def test_window_flow_sees_small_motions_larger_than_whole_frame_flow():
    frames, floor = _wiggling_animal()
    whole = prepare_frames([frames], _settings(False), background=floor)
    window = prepare_frames([frames[:10], frames[10:]], _settings(True), background=floor)
    assert window.flow.shape == whole.flow.shape == (23, 2, 32, 32)
    # the spatial stream's crops are the same either way
    np.testing.assert_array_equal(window.rgb, whole.rgb)
    # a 2 px step: 1/3 px at 32 px of a 192 px frame, 4/3 px in a 48 px window resized to 32
    assert _animal_motion(window.flow) > 2.5 * _animal_motion(whole.flow)
    # the floor around the animal does not move in the window (both crops at the same place)
    ring = np.abs(window.flow.astype(np.float32))
    ring[:, :, 4:-4, 4:-4] = 0
    assert ring.sum() / (ring.size - window.flow[:, :, 4:-4, 4:-4].size) < 0.05


def test_window_flow_is_the_same_whatever_the_chunks():
    frames, floor = _wiggling_animal()
    centres = np.tile([[98.0, 96.0]], (len(frames), 1))
    one = WindowFlowStream(48, 32).push(frames, centres)
    stream = WindowFlowStream(48, 32)
    parts = [stream.push(frames[a:b], centres[a:b]) for a, b in ((0, 1), (1, 9), (9, 24))]
    np.testing.assert_array_equal(np.concatenate(parts), one)
    assert stream.finish().shape == (0, 2, 32, 32)


def test_window_past_the_frame_edge_repeats_edge_pixels():
    frame = np.zeros((20, 20, 3), np.uint8)
    frame[:, :10] = 200
    gray = window_gray(frame, np.array([0.0, 10.0]), side=10, size=10)
    assert gray.shape == (10, 10) and (gray[:, :5] > 150).all()


@pytest.mark.filterwarnings("ignore:.*second object")
def test_window_flow_has_its_own_cache_and_needs_dis(tmp_path):
    frames, _ = _wiggling_animal(12)
    video = write_video(tmp_path / "clip" / "clip.mp4", frames, fps=30)
    assert cache_key(video, "flow", _settings(True)) != cache_key(video, "flow", _settings(False))
    assert cache_key(video, "rgb", _settings(True)) == cache_key(video, "rgb", _settings(False))
    prepare_video(video, _settings(True), progress=False)
    prepare_video(video, _settings(False), progress=False)
    assert len(list((tmp_path / "clip" / CACHE_DIR).glob("flow_*.json"))) == 2
    motionnet = _settings(True).model_copy(deep=True)
    motionnet.flow.method = "motionnet"
    with pytest.raises(FlowError, match="crop_motion needs flow.method=dis"):
        prepare_frames([frames], motionnet, background=frames[0])
