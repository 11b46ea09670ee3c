"""DIS optical flow and the flow interface (method dis)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ethogram.config import FlowSettings
from ethogram.errors import FlowError
from ethogram.flow.api import compute_flow, resize_flow_array
from ethogram.flow.dis import DisFlowStream, dis_flow
from ethogram.flow.preview import flow_to_rgb


def translated_texture(n_frames: int, size: int, dx: float, dy: float, seed: int = 0) -> np.ndarray:
    """Smoothed noise moving by (dx, dy) pixels per frame: uint8 (T, size, size, 3)."""
    rng = np.random.default_rng(seed)
    pad = int(np.ceil(max(abs(dx), abs(dy)) * n_frames)) + 8
    big = cv2.GaussianBlur(
        rng.random((size + 2 * pad, size + 2 * pad, 3)).astype(np.float32), (0, 0), 2
    )
    big = (big - big.min()) / (big.max() - big.min()) * 255
    frames = []
    for t in range(n_frames):
        # frame t at x shows big at x + pad - t * (dx, dy): content moves by +(dx, dy) per frame
        m = np.float32([[1, 0, pad - t * dx], [0, 1, pad - t * dy]])
        frame = cv2.warpAffine(big, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
    return np.stack(frames)


def interior(flow: np.ndarray, margin: int) -> np.ndarray:
    return flow[..., margin:-margin, margin:-margin]


@pytest.mark.parametrize(
    "preset, dx, dy", [("ultrafast", 1.5, -0.75), ("fast", 3.0, 2.5), ("medium", -2.0, 1.0)]
)
def test_dis_recovers_known_translation_within_a_third_of_a_pixel(preset, dx, dy):
    frames = translated_texture(6, 64, dx, dy)
    flow = dis_flow(frames, size=None, preset=preset)
    assert flow.shape == (5, 2, 64, 64)
    assert flow.dtype == np.float32
    inner = interior(flow, 8)
    assert abs(np.median(inner[:, 0]) - dx) < 0.3
    assert abs(np.median(inner[:, 1]) - dy) < 0.3


def test_dis_flow_at_a_smaller_size_is_in_pixels_of_that_size():
    frames = translated_texture(4, 96, 3.0, 0.0)
    flow = dis_flow(frames, size=48, preset="ultrafast")
    assert flow.shape == (3, 2, 48, 48)
    assert abs(np.median(interior(flow, 6)[:, 0]) - 1.5) < 0.3


def test_streaming_in_chunks_gives_the_same_flow_as_all_at_once():
    frames = translated_texture(9, 48, 1.0, 0.5)
    whole = dis_flow(frames, size=32)
    stream = DisFlowStream(size=32)
    parts = [stream.push(frames[:4]), stream.push(frames[4:5]), stream.push(frames[5:])]
    parts.append(stream.finish())
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)


def test_compute_flow_with_method_dis_returns_size_square_flows():
    frames = translated_texture(5, 64, 1.0, 1.0)
    flow = compute_flow(frames, FlowSettings(method="dis", size=32))
    assert flow.shape == (4, 2, 32, 32)


def test_fewer_than_two_frames_is_an_error_naming_the_count():
    frames = translated_texture(1, 32, 1.0, 0.0)
    with pytest.raises(FlowError, match="at least 2 frames, found 1"):
        compute_flow(frames, FlowSettings())
    with pytest.raises(FlowError, match="found 1"):
        dis_flow(frames)


def test_unknown_method_is_an_error_listing_the_methods():
    settings = FlowSettings().model_copy(update={"method": "farneback"})
    with pytest.raises(FlowError, match="unknown flow method 'farneback'.*dis.*motionnet"):
        compute_flow(translated_texture(3, 32, 1, 0), settings)


def test_frames_of_the_wrong_shape_are_an_error_saying_what_was_expected():
    with pytest.raises(FlowError, match=r"expected frames of shape \(T, H, W, 3\)"):
        compute_flow(np.zeros((3, 8, 8, 4), np.uint8), FlowSettings())


def test_resizing_flow_rescales_magnitudes_to_the_new_pixels():
    flow = np.zeros((2, 2, 16, 16), np.float32)
    flow[:, 0], flow[:, 1] = 1.0, -2.0
    big = resize_flow_array(flow, (48, 32))
    assert big.shape == (2, 2, 48, 32)
    np.testing.assert_allclose(big[:, 0], 2.0, atol=1e-5)  # width 16 -> 32
    np.testing.assert_allclose(big[:, 1], -6.0, atol=1e-5)  # height 16 -> 48


def test_color_coding_maps_still_pixels_to_black_and_directions_to_hues():
    flow = np.zeros((2, 4, 8), np.float32)
    flow[0, :, 4:] = 1.0  # right half moves right
    rgb = flow_to_rgb(flow, max_magnitude=1.0)
    assert rgb.shape == (4, 8, 3) and rgb.dtype == np.uint8
    assert rgb[:, :4].max() == 0
    assert tuple(rgb[0, 6]) == (255, 0, 0)  # rightward = red
    left = flow_to_rgb(-flow, max_magnitude=1.0)
    assert left[0, 6, 0] == 0 and left[0, 6, 1] > 200 and left[0, 6, 2] > 200  # leftward = cyan
