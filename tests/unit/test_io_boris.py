"""BORIS exports: every layout BORIS writes reads to the right frames; written files read back."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ethogram.errors import LabelError
from ethogram.io import boris
from ethogram.io.annotation import LabelExport, fit_annotation
from ethogram.io.formats import detect_format
from tests.interop_support import BEHAVIORS, DATA, FPS, N_FRAMES, frames_of, random_labels

EXPECTED = {"groom": list(range(3, 15)), "rear": list(range(30, 45)), "sniff": [24]}


def _fit(ann, points="frame"):
    return fit_annotation(ann, BEHAVIORS, N_FRAMES, FPS, points=points).values


def test_tabular_v9_groups_events_by_subject_and_pairs_start_stop():
    annotations = boris.read(DATA / "boris_tabular_v9.csv")
    by_subject = {a.subject: a for a in annotations}
    assert sorted(by_subject) == ["mouse1", "mouse2"]
    assert by_subject["mouse1"].media == "C:/Users/lab/videos/Mouse1.mp4"
    values = _fit(by_subject["mouse1"])
    assert {b: frames_of(values, b) for b in EXPECTED} == EXPECTED
    assert frames_of(_fit(by_subject["mouse2"]), "groom") == list(range(36, 54))


def test_tabular_v7_metadata_rows_and_time_offset_are_handled():
    (ann,) = boris.read(DATA / "boris_tabular_v7.tsv")
    assert ann.media == "/data/videos/mouse2.mp4"
    values = _fit(ann)  # times are 1.0 s late in the file: the observation's time offset
    assert frames_of(values, "groom") == EXPECTED["groom"]
    assert frames_of(values, "rear") == EXPECTED["rear"]
    assert frames_of(values, "sniff") == [27]


@pytest.mark.parametrize(
    "name, media, sniff",
    [("boris_aggregated_v9.tsv", "mouse1.mp4", 24), ("boris_aggregated_v8.tsv", "mouse2.mp4", 27)],
)
def test_aggregated_events_of_both_media_column_names_read(name, media, sniff):
    (ann,) = boris.read(DATA / name)
    assert ann.media == media
    assert ann.subject == "No focal subject"
    values = _fit(ann)
    assert frames_of(values, "groom") == EXPECTED["groom"]
    assert frames_of(values, "rear") == EXPECTED["rear"]
    assert frames_of(values, "sniff") == [sniff]


def test_point_events_are_skipped_on_request():
    (ann,) = boris.read(DATA / "boris_aggregated_v9.tsv")
    assert ann.n_points == 1
    assert frames_of(_fit(ann, points="skip"), "sniff") == []


def test_every_boris_test_file_is_detected_as_boris():
    for path in sorted(DATA.glob("boris_*")):
        assert detect_format(path) == "boris", path.name


@pytest.mark.parametrize(
    "writer, suffix", [(boris.write, ".csv"), (boris.write_aggregated, ".tsv")]
)
def test_written_file_reads_back_to_the_same_frames(tmp_path, writer, suffix):
    values = random_labels(seed=3)
    path = writer(tmp_path / f"m{suffix}", LabelExport(values, BEHAVIORS, FPS, "m.mp4"))
    (ann,) = boris.read(path)
    assert ann.media == "m.mp4"
    np.testing.assert_array_equal(_fit(ann), values)


def test_written_tabular_file_has_boris_9_header_and_crlf_rows(tmp_path):
    values = random_labels(seed=4)
    path = boris.write(tmp_path / "m.tsv", LabelExport(values, BEHAVIORS, FPS, "m.mp4"))
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")
    assert raw.split(b"\r\n")[0].decode().split("\t") == boris.TABULAR_COLUMNS


def _edit(tmp_path, name, old, new):
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_stop_without_start_names_file_row_and_column(tmp_path):
    path = _edit(tmp_path, "boris_tabular_v9.csv", "groom,,,START", "groom,,,STOP")
    with pytest.raises(LabelError, match=r"boris_tabular_v9.csv, row 2, column 'Behavior type'"):
        boris.read(path)


def test_a_time_that_is_not_a_number_names_its_row(tmp_path):
    path = _edit(tmp_path, "boris_aggregated_v9.tsv", "\t1.000\t1.500\t", "\t1.000\tsoon\t")
    with pytest.raises(LabelError, match=r"row 3, column 'Stop \(s\)'.*'soon'"):
        boris.read(path)


def test_unknown_event_type_is_an_error(tmp_path):
    path = _edit(tmp_path, "boris_tabular_v7.tsv", "POINT", "MAYBE")
    with pytest.raises(LabelError, match=r"row 20, column 'Status': expected START, STOP or POINT"):
        boris.read(path)


def test_a_start_that_never_stops_is_an_error(tmp_path):
    path = tmp_path / "open.csv"
    lines = (DATA / "boris_tabular_v9.csv").read_text().splitlines()
    path.write_text("\n".join(line for line in lines if "STOP,1.800" not in line))
    with pytest.raises(
        LabelError, match=r"row 6, column 'Behavior type': 'groom' STARTs but never"
    ):
        boris.read(path)


def test_a_file_without_a_boris_header_is_an_error(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(LabelError, match="not a BORIS export"):
        boris.read(path)


def test_aggregated_events_without_a_media_column_take_the_video_of_source(tmp_path):
    # BORIS 8.9 wrote aggregated events with only "Source" (player #1:<media>) naming the video
    lines = (DATA / "boris_aggregated_v9.tsv").read_text().splitlines()
    rows = [line.split("\t") for line in lines]
    drop = rows[0].index("Media file name")
    path = tmp_path / "old.tsv"
    path.write_text("\n".join("\t".join(r[:drop] + r[drop + 1 :]) for r in rows) + "\n")
    (ann,) = boris.read(path)
    assert ann.media == "mouse1.mp4"
    assert frames_of(_fit(ann), "groom") == EXPECTED["groom"]
