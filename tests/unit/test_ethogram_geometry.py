"""Ethogram layout and detail window without Qt: rows, frame <-> pixel x, window moves."""

from __future__ import annotations

from ethogram.gui.ethogram_geometry import MIN_SPAN, EthogramGeometry


def make_geometry(
    n_frames: int = 1000, probabilities: bool = False, predictions: bool = False
) -> EthogramGeometry:
    geo = EthogramGeometry()
    geo.layout((700, 300), 100, 30, 3, probabilities, predictions)
    geo.set_n_frames(n_frames, span=100, frame=0)
    return geo


def test_detail_x_of_a_frame_middle_maps_back_to_that_frame():
    geo = make_geometry()
    geo.set_window(250, 100)
    for frame in range(250, 350):
        assert geo.detail_x_to_frame(geo.frame_to_detail_x(frame + 0.5)) == frame


def test_detail_x_left_of_the_strip_clamps_to_the_window_start():
    geo = make_geometry()
    geo.set_window(250, 100)
    assert geo.detail_x_to_frame(geo.x0 - 50) == 250
    assert geo.detail_x_to_frame(geo.x0 + geo.width + 50) == 349


def test_overview_x_spans_the_whole_video():
    geo = make_geometry()
    assert geo.overview_x_to_frame(geo.frame_to_overview_x(999.5)) == 999
    assert geo.frame_to_overview_x(1000) == geo.x0 + geo.width


def test_window_is_clamped_inside_the_video_and_to_the_minimum_span():
    geo = make_geometry()
    assert geo.set_window(990, 5)
    assert geo.detail_range() == (1000 - MIN_SPAN, 1000)
    assert not geo.set_window(2000, 5)


def test_frame_just_past_the_window_pages_it_forward():
    geo = make_geometry()
    geo.set_window(100, 100)
    assert geo.following_start(205) == 205 - 10
    assert geo.following_start(800) == 800 - 50


def test_rescaled_window_keeps_the_frame_at_its_place_on_screen():
    geo = make_geometry()
    geo.set_window(100, 100)
    assert geo.rescaled_start(125, 200) == 75  # a quarter into both windows


def test_probability_and_prediction_rows_follow_each_label_row_without_overlap():
    geo = make_geometry(probabilities=True, predictions=True)
    kinds = [(row.behavior, row.kind) for row in geo.rows]
    assert kinds[:3] == [(0, "label"), (0, "probability"), (0, "prediction")]
    assert len(kinds) == 9
    for upper, lower in zip(geo.rows, geo.rows[1:], strict=False):
        assert upper.y + upper.height < lower.y
    assert geo.rows_top > geo.axis.bottom > geo.overview.bottom
    assert geo.row_at(geo.rows[4].y) == geo.rows[4]
    assert geo.row(2, "probability") is not None
    assert make_geometry().row(2, "probability") is None


def test_height_for_grows_with_the_label_row_height():
    geo = make_geometry()
    assert geo.height_for(label_px=22) - geo.height_for(label_px=16) == 3 * 6
