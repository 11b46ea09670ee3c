"""Strip rendering without Qt: frames reduced to pixel columns, colours of label states."""

from __future__ import annotations

import numpy as np

from ethogram.gui import palette
from ethogram.gui.ethogram_render import (
    Row,
    column_starts,
    reduce_labels,
    reduce_max,
    render_rows,
    tick_step,
    unpack_rgb,
)


def test_one_frame_bout_stays_visible_when_many_frames_share_a_pixel():
    labels = np.zeros((36_000, 2), dtype=np.int8)
    labels[20_001, 1] = 1
    columns = reduce_labels(labels, column_starts(36_000, 900))
    assert columns[:, 1].sum() == 1
    assert columns[20_001 * 900 // 36_000, 1] == 1


def test_zoomed_in_columns_repeat_each_frame():
    labels = np.array([[1], [0], [-1]], dtype=np.int8)
    columns = reduce_labels(labels, column_starts(3, 9))
    assert columns.ravel().tolist() == [1, 1, 1, 0, 0, 0, -1, -1, -1]


def test_probability_columns_keep_the_peak():
    probs = np.zeros((100, 1), dtype=np.float32)
    probs[37, 0] = 0.9
    assert reduce_max(probs, column_starts(100, 10)).max() == np.float32(0.9)


def test_label_row_colours_present_absent_and_hatched_unlabeled():
    colors = palette.behavior_colors(2)
    labels = np.array([[1], [0], [-1]], dtype=np.int8).repeat(10, axis=0)
    columns = reduce_labels(np.c_[labels, labels], column_starts(30, 30))
    img = unpack_rgb(render_rows([Row("label", 1, 2, 8)], 12, 30, colors, columns))
    assert tuple(img[5, 5, :3]) == colors[1]
    assert tuple(img[5, 15, :3]) == palette.EMPTY_RGB
    unlabeled = {tuple(int(v) for v in img[y, x, :3]) for y in range(2, 10) for x in range(20, 30)}
    assert unlabeled == {palette.UNLABELED_RGB, palette.UNLABELED_STRIPE_RGB}
    assert tuple(img[0, 0, :3]) == palette.PANEL_RGB


def test_time_ticks_are_whole_seconds_when_zoomed_out_and_frames_when_zoomed_in():
    assert tick_step(36_000, 1000, 30.0) % 30 == 0
    assert tick_step(30, 1000, 30.0) < 30
