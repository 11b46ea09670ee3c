"""Every label format: round trips, files laid out as each tool writes them, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethogram.bouts import find_bouts
from ethogram.errors import LabelError
from ethogram.io import bento, bouts_table, simba
from ethogram.io.annotation import LabelExport, fit_annotation
from ethogram.io.formats import (
    FORMATS,
    detect_format,
    export_file_name,
    read_annotations,
    read_labels_file,
    write_labels_file,
)
from ethogram.io.labels import write_labels
from tests.interop_support import BEHAVIORS, DATA, FPS, N_FRAMES, frames_of, random_labels

GROOM, REAR = list(range(3, 15)), list(range(30, 45))


def _fit(ann, **kwargs):
    return fit_annotation(ann, BEHAVIORS, N_FRAMES, FPS, **kwargs).values


def _needs(fmt):
    if fmt == "nwb":
        pytest.importorskip("pynwb")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_then_import_gives_the_same_frames(tmp_path, fmt):
    _needs(fmt)
    values = random_labels(seed=11)
    path = tmp_path / export_file_name(fmt, "mouse1")
    write_labels_file(path, LabelExport(values, BEHAVIORS, FPS, "mouse1.mp4"), fmt)
    fitted = read_labels_file(path, fmt, fps=FPS, n_frames=N_FRAMES, behaviors=BEHAVIORS)
    np.testing.assert_array_equal(fitted.values, values)


@pytest.mark.parametrize("fmt", ["boris", "bento", "nwb", "bouts"])
def test_interval_formats_round_trip_within_one_frame_at_an_awkward_frame_rate(tmp_path, fmt):
    _needs(fmt)
    fps, n_frames = 29.97, 300
    values = random_labels(seed=12, n_frames=n_frames)
    path = tmp_path / export_file_name(fmt, "m")
    write_labels_file(path, LabelExport(values, BEHAVIORS, fps, "m.mp4"), fmt)
    got = read_labels_file(path, fmt, fps=fps, n_frames=n_frames, behaviors=BEHAVIORS).values
    for k in range(1, len(BEHAVIORS)):
        want_edges = np.flatnonzero(np.diff(values[:, k]))
        got_edges = np.flatnonzero(np.diff(got[:, k]))
        assert len(want_edges) == len(got_edges)
        assert np.abs(want_edges - got_edges).max(initial=0) <= 1


def test_nwb_keeps_unlabeled_frames_as_observation_intervals(tmp_path):
    pytest.importorskip("pynwb")
    values = random_labels(seed=13, unlabeled=True)
    path = write_labels_file(
        tmp_path / "m.nwb", LabelExport(values, BEHAVIORS, FPS, "m.mp4"), "nwb"
    )
    fitted = read_labels_file(path, fps=FPS, n_frames=N_FRAMES, behaviors=BEHAVIORS)
    np.testing.assert_array_equal(fitted.values, values)


def test_nwb_file_has_ethogram_bouts_linked_to_catalogue_and_video(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    pytest.importorskip("ndx_ethogram")
    values = random_labels(seed=14)
    export = LabelExport(values, BEHAVIORS, FPS, "m.mp4", kind="predictions")
    path = write_labels_file(tmp_path / "m.nwb", export, "nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        bouts = nwbfile.processing["behavior"]["behavior_bouts"]
        assert type(bouts).__name__ == "EthogramBouts"
        assert bouts.labeling_method == "automated"
        assert list(bouts.ethogram["behavior"].data[:]) == ["groom", "rear", "sniff"]
        assert list(bouts.source_video.external_file[:]) == ["m.mp4"]
        assert len(bouts) == sum(len(find_bouts(values[:, k] == 1)) for k in (1, 2, 3))


def test_nwb_reads_a_plain_time_intervals_table_with_a_behavior_column(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone

    from pynwb.epoch import TimeIntervals

    nwbfile = pynwb.NWBFile("s", "id", datetime(2024, 1, 1, tzinfo=timezone.utc))
    table = TimeIntervals(name="scored", description="hand scored")
    table.add_column("behavior", "what")
    table.add_row(start_time=0.1, stop_time=0.5, behavior="groom")
    table.add_row(start_time=0.8, stop_time=0.8, behavior="sniff")
    nwbfile.add_time_intervals(table)
    path = tmp_path / "mouse1.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    (ann,) = read_annotations(path)
    assert ann.n_points == 1
    values = _fit(ann)
    assert frames_of(values, "groom") == GROOM and frames_of(values, "sniff") == [24]


def test_a_file_that_is_not_nwb_is_an_error(tmp_path):
    pytest.importorskip("pynwb")
    path = tmp_path / "m.nwb"
    path.write_text("not hdf5")
    with pytest.raises(LabelError, match="m.nwb: not a readable NWB file"):
        read_annotations(path)


def test_simba_annotation_file_ignores_pose_and_feature_columns():
    (ann,) = simba.read(DATA / "simba" / "targets_inserted" / "mouse1.csv")
    assert ann.media is None and ann.other_columns
    values = _fit(ann)  # the 0/1 feature column is not a project behavior: ignored
    assert frames_of(values, "groom") == GROOM and frames_of(values, "rear") == REAR
    assert frames_of(values, "sniff") == [] and (values[:, 3] == -1).all()


def test_simba_machine_results_take_the_behaviors_of_the_probability_columns():
    (ann,) = simba.read(DATA / "simba" / "machine_results" / "mouse2.csv")
    assert ann.behaviors == ["groom", "rear"] and not ann.other_columns
    values = _fit(ann)
    assert frames_of(values, "groom") == GROOM and frames_of(values, "rear") == REAR


def test_simba_predictions_are_written_with_probability_columns(tmp_path):
    values = random_labels(seed=15)
    probabilities = np.where(values == 1, 0.9, 0.1).astype(np.float32)
    export = LabelExport(values, BEHAVIORS, FPS, "m.mp4", "predictions", probabilities)
    frame = pd.read_csv(simba.write(tmp_path / "m.csv", export), index_col=0)
    assert list(frame.columns) == [
        "Probability_groom", "groom", "Probability_rear", "rear", "Probability_sniff", "sniff"
    ]  # fmt: skip
    np.testing.assert_allclose(frame["Probability_rear"], probabilities[:, 2], rtol=1e-6)


def test_simba_value_other_than_0_or_1_names_row_and_column(tmp_path):
    frame = pd.read_csv(DATA / "simba" / "machine_results" / "mouse2.csv", index_col=0)
    frame.loc[7, "rear"] = 2
    path = tmp_path / "mouse2.csv"
    frame.to_csv(path)
    with pytest.raises(LabelError, match=r"mouse2.csv, row 9, column 'rear': expected 0 or 1"):
        simba.read(path)


def test_bento_file_in_frames_reads_one_based_inclusive_bouts():
    (ann,) = bento.read(DATA / "bento_mouse1.annot")
    assert ann.media == "mouse1.mp4" and ann.subject is None and ann.fps == 30.0
    assert ann.behaviors == ["groom", "rear", "sniff"]  # 'other' is Bento's "nothing"
    values = _fit(ann)
    assert frames_of(values, "groom") == GROOM and frames_of(values, "rear") == REAR


def test_bento_file_in_seconds_with_two_channels_gives_one_annotation_per_channel():
    annotations = bento.read(DATA / "bento_two_channels.annot")
    assert [a.subject for a in annotations] == ["Ch1", "Ch2"]
    assert annotations[0].media is None  # two movies (front and top view)
    assert frames_of(_fit(annotations[0]), "groom") == GROOM
    assert frames_of(_fit(annotations[1]), "sniff") == [24]


def test_bento_frames_at_another_rate_than_the_video_are_converted(tmp_path):
    text = (DATA / "bento_mouse1.annot").read_text()
    path = tmp_path / "m.annot"  # the same bouts annotated at 15 frames per second
    path.write_text(
        text.replace("30.000000", "15.000000").replace("4\t15\t12", "2\t7\t6")
        .replace("31\t45\t15", "16\t22\t7")
    )  # fmt: skip
    values = _fit(bento.read(path)[0])  # frame k of 15 fps is frames 2k, 2k + 1 of 30 fps
    assert frames_of(values, "groom") == list(range(2, 14))
    assert frames_of(values, "rear") == list(range(30, 44))


def test_bento_malformed_bout_line_names_its_row(tmp_path):
    path = tmp_path / "m.annot"
    path.write_text((DATA / "bento_mouse1.annot").read_text().replace("31\t45\t15", "31\tx\t15"))
    with pytest.raises(LabelError, match=r"m.annot, row 25: expected 'Start Stop Duration'"):
        bento.read(path)


def test_bento_file_without_its_title_line_is_an_error(tmp_path):
    path = tmp_path / "m.annot"
    path.write_text("hello\n")
    with pytest.raises(LabelError, match="row 1: not a Bento annotation file"):
        bento.read(path)


def test_bouts_table_writer_matches_summarize_bouts_table(tmp_path):
    from ethogram.summarize import bouts_table as summary_bouts

    values = random_labels(seed=16)
    path = bouts_table.write(tmp_path / "m_bouts.csv", LabelExport(values, BEHAVIORS, FPS, "m"))
    expected = summary_bouts(values, BEHAVIORS, FPS)
    pd.testing.assert_frame_equal(pd.read_csv(path), expected, check_dtype=False)


def test_bouts_table_in_seconds_only_is_read(tmp_path):
    path = tmp_path / "m_bouts.csv"
    path.write_text("behavior,start_s,end_s\ngroom,0.1,0.5\nrear,1.0,1.5\n")
    assert detect_format(path) == "bouts"
    values = _fit(bouts_table.read(path)[0])
    assert frames_of(values, "groom") == GROOM and frames_of(values, "rear") == REAR


def test_bouts_table_ending_before_it_starts_names_row_and_column(tmp_path):
    path = tmp_path / "m_bouts.csv"
    path.write_text("behavior,start_frame,end_frame\ngroom,3,14\nrear,30,20\n")
    with pytest.raises(LabelError, match=r"row 3, column 'end_frame': the bout ends \(20\)"):
        bouts_table.read(path)


def test_deepethogram_csv_without_background_and_in_another_order_imports(tmp_path):
    values = random_labels(seed=17)
    path = tmp_path / "mouse1_labels.csv"
    pd.DataFrame(values[:, [3, 1, 2]], columns=["sniff", "groom", "rear"]).to_csv(path)
    fitted = read_labels_file(path, fps=FPS, n_frames=N_FRAMES, behaviors=BEHAVIORS)
    np.testing.assert_array_equal(fitted.values, values)


def test_deepethogram_csv_with_a_bad_value_names_frame_and_column(tmp_path):
    values = random_labels(seed=18)
    values[5, 0] = 7
    path = tmp_path / "m.csv"
    pd.DataFrame(values, columns=BEHAVIORS).to_csv(path)
    with pytest.raises(LabelError, match=r"found 7 at frame 5 column 'background'"):
        read_annotations(path, "deepethogram")


def test_per_frame_file_of_another_length_than_the_video_is_an_error(tmp_path):
    path = tmp_path / "m.csv"
    write_labels(path, random_labels(seed=19, n_frames=50), BEHAVIORS, backup=False)
    with pytest.raises(LabelError, match="has 50 frame rows but the video has 60 frames"):
        read_labels_file(path, fps=FPS, n_frames=N_FRAMES, behaviors=BEHAVIORS)


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("simba/targets_inserted/mouse1.csv", "simba"),
        ("simba/machine_results/mouse2.csv", "simba"),
        ("bento_mouse1.annot", "bento"),
        ("boris_aggregated_v8.tsv", "boris"),
    ],
)
def test_format_is_detected_from_extension_or_header(name, fmt):
    assert detect_format(DATA / name) == fmt


def test_an_unknown_extension_asks_for_the_format(tmp_path):
    with pytest.raises(LabelError, match=r"cannot tell the label format.*'\.xlsx'.*--format"):
        detect_format(tmp_path / "a.xlsx")


def test_simba_column_named_like_a_behavior_with_other_values_names_row_and_column(tmp_path):
    frame = pd.read_csv(DATA / "simba" / "targets_inserted" / "mouse1.csv", index_col=0)
    frame["sniff"] = 0.0
    frame.loc[4, "sniff"] = 0.5
    path = tmp_path / "mouse1.csv"
    frame.to_csv(path)
    (ann,) = simba.read(path)
    with pytest.raises(LabelError, match=r"mouse1.csv, row 6, column 'sniff': expected 0 or 1"):
        _fit(ann)
