"""Summaries on hand-made label files with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ethogram.errors import ConfigError, LabelError
from ethogram.io.labels import write_labels
from ethogram.summarize import (
    BOUT_COLUMNS,
    SUMMARY_COLUMNS,
    bouts_table,
    plot_ethogram,
    summarize_paths,
    summary_table,
    video_name,
)

NAMES = ["background", "groom", "rear"]


def make_labels(groom: str, rear: str) -> np.ndarray:
    """Labels from strings of '1', '0' and '-' (unlabeled); background filled in."""

    def col(s: str) -> np.ndarray:
        return np.array([{"1": 1, "0": 0, "-": -1}[c] for c in s], dtype=np.int8)

    g, r = col(groom), col(rear)
    bg = np.where((g == 1) | (r == 1), 0, 1).astype(np.int8)
    bg[(g == -1) & (r == -1)] = -1
    return np.stack([bg, g, r], axis=1)


# 20 frames at 10 fps. groom: bouts at frames 2-4 (3 frames) and 10-16 (7 frames);
# rear: one bout at frames 6-7 (2 frames); frames 18-19 unlabeled.
GROOM = "00111" + "00000" + "1111111" + "0" + "--"
REAR = "000000" + "11" + "0" * 10 + "--"
FPS = 10.0


@pytest.fixture
def labels() -> np.ndarray:
    values = make_labels(GROOM, REAR)
    assert values.shape == (20, 3)
    return values


def test_bouts_table_lists_bouts_in_time_order_with_inclusive_end_frames(labels):
    table = bouts_table(labels, NAMES, FPS)
    assert list(table.columns) == BOUT_COLUMNS
    assert table["behavior"].tolist() == ["groom", "rear", "groom"]
    assert table["start_frame"].tolist() == [2, 6, 10]
    assert table["end_frame"].tolist() == [4, 7, 16]
    assert table["duration_frames"].tolist() == [3, 2, 7]
    np.testing.assert_allclose(table["start_s"], [0.2, 0.6, 1.0])
    np.testing.assert_allclose(table["end_s"], [0.5, 0.8, 1.7])
    np.testing.assert_allclose(table["duration_s"], [0.3, 0.2, 0.7])


def test_bouts_table_excludes_background_unless_asked(labels):
    assert "background" not in set(bouts_table(labels, NAMES, FPS)["behavior"])
    with_bg = bouts_table(labels, NAMES, FPS, include_background=True)
    bg = with_bg[with_bg["behavior"] == "background"]
    # background bouts: 0-1, 5, 8-9, 17 (18-19 unlabeled)
    assert bg["start_frame"].tolist() == [0, 5, 8, 17]
    assert bg["end_frame"].tolist() == [1, 5, 9, 17]


def test_one_frame_bout_has_equal_start_and_end_frame():
    table = bouts_table(make_labels("00100", "00000"), NAMES, 5)
    assert table[["start_frame", "end_frame", "duration_frames"]].values.tolist() == [[2, 2, 1]]
    assert table["end_s"].iloc[0] == pytest.approx(0.6)


def test_bouts_table_of_an_empty_ethogram_has_the_columns_and_no_rows():
    table = bouts_table(make_labels("0000", "0000"), NAMES, 30)
    assert list(table.columns) == BOUT_COLUMNS
    assert len(table) == 0


def test_summary_table_known_totals_bouts_durations_and_latency(labels):
    table = summary_table(labels, NAMES, FPS, video="mouse1")
    assert list(table.columns) == SUMMARY_COLUMNS
    assert table["behavior"].tolist() == ["groom", "rear"]
    groom, rear = table.iloc[0], table.iloc[1]
    assert groom["video"] == "mouse1"
    assert groom["total_frames"] == 10
    assert groom["total_s"] == pytest.approx(1.0)
    assert groom["labeled_frames"] == 18 and groom["n_frames"] == 20
    assert groom["fraction"] == pytest.approx(10 / 18)  # unlabeled frames excluded
    assert groom["n_bouts"] == 2
    assert groom["mean_bout_s"] == pytest.approx(0.5)  # (0.3 + 0.7) / 2
    assert groom["median_bout_s"] == pytest.approx(0.5)
    assert groom["latency_s"] == pytest.approx(0.2)
    assert rear["total_frames"] == 2 and rear["n_bouts"] == 1
    assert rear["fraction"] == pytest.approx(2 / 18)
    assert rear["mean_bout_s"] == pytest.approx(0.2)
    assert rear["latency_s"] == pytest.approx(0.6)
    assert groom["fps"] == FPS


def test_median_differs_from_mean_with_three_uneven_bouts():
    # groom bouts of 1, 2 and 6 frames at 2 fps: mean 1.5 s, median 1.0 s
    values = make_labels("10110111111", "00000000000")
    row = summary_table(values, NAMES, 2.0).iloc[0]
    assert row["n_bouts"] == 3
    assert row["mean_bout_s"] == pytest.approx(1.5)
    assert row["median_bout_s"] == pytest.approx(1.0)
    assert row["latency_s"] == 0.0


def test_behavior_without_bouts_has_zero_time_and_nan_durations_and_latency():
    row = summary_table(make_labels("0110", "0000"), NAMES, 30).iloc[1]
    assert row["behavior"] == "rear"
    assert row["total_frames"] == 0 and row["n_bouts"] == 0 and row["fraction"] == 0
    assert math.isnan(row["mean_bout_s"])
    assert math.isnan(row["median_bout_s"])
    assert math.isnan(row["latency_s"])


def test_fully_unlabeled_behavior_has_nan_fraction():
    row = summary_table(make_labels("0110", "----"), NAMES, 30).iloc[1]
    assert row["labeled_frames"] == 0
    assert math.isnan(row["fraction"])


def test_a_bout_interrupted_by_unlabeled_frames_counts_twice():
    row = summary_table(make_labels("11--11", "000000"), NAMES, 1).iloc[0]
    assert row["n_bouts"] == 2 and row["total_frames"] == 4
    assert row["fraction"] == pytest.approx(1.0)


def test_summary_includes_background_when_asked(labels):
    table = summary_table(labels, NAMES, FPS, include_background=True)
    bg = table.iloc[0]
    assert bg["behavior"] == "background"
    assert bg["total_frames"] == 6 and bg["n_bouts"] == 4


@pytest.mark.parametrize("fps", [0, -5, float("nan"), "fast"])
def test_bad_frame_rate_is_a_config_error(labels, fps):
    with pytest.raises(ConfigError, match="fps"):
        summary_table(labels, NAMES, fps)


def test_values_that_do_not_match_the_class_names_are_rejected(labels):
    with pytest.raises(LabelError, match="behavior columns"):
        summary_table(labels, ["background", "groom"], FPS)


def test_video_name_strips_predictions_and_labels_suffixes():
    assert video_name("a/mouse1_predictions.csv") == "mouse1"
    assert video_name("mouse2_labels.csv") == "mouse2"
    assert video_name("mouse3.csv") == "mouse3"


def test_summarize_paths_reads_files_with_one_or_many_frame_rates(tmp_path, labels):
    a = tmp_path / "m1_predictions.csv"
    b = tmp_path / "m2_predictions.csv"
    write_labels(a, labels, NAMES)
    write_labels(b, make_labels("1" * 10, "0" * 10), NAMES)
    table = summarize_paths([a, b], fps=FPS)
    assert table["video"].tolist() == ["m1", "m1", "m2", "m2"]
    assert table.loc[table["video"] == "m2", "total_s"].tolist() == pytest.approx([1.0, 0.0])
    table = summarize_paths([a, b], fps=[FPS, 5.0])
    assert table.loc[table["video"] == "m2", "total_s"].tolist() == pytest.approx([2.0, 0.0])
    assert table.loc[table["video"] == "m1", "total_s"].tolist() == pytest.approx([1.0, 0.2])


def test_summarize_paths_without_frame_rate_says_so(tmp_path, labels):
    path = tmp_path / "m1_predictions.csv"
    write_labels(path, labels, NAMES)
    with pytest.raises(ConfigError, match="frame rate"):
        summarize_paths([path])


def test_plot_ethogram_writes_a_png(tmp_path, labels):
    out = plot_ethogram(labels, NAMES, FPS, tmp_path / "figs" / "m1_ethogram.png", title="m1")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["m1_ethogram.png"]  # no temporary left


def test_plot_ethogram_handles_an_empty_video(tmp_path):
    out = plot_ethogram(np.zeros((0, 3), np.int8), NAMES, 30, tmp_path / "empty.png")
    assert out.stat().st_size > 0


def test_times_in_seconds_carry_no_float_noise():
    from ethogram.summarize import bouts_table

    values = np.zeros((2000, 2), np.int8)
    values[1388:1571, 1] = 1
    values[:, 0] = 1 - values[:, 1]
    table = bouts_table(values, ["background", "walk"], fps=30000 / 1001)  # NTSC 29.97 fps
    assert repr(float(table.start_s[0])) == "46.312933"  # not 46.312933333333334
