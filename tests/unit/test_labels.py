from pathlib import Path

import numpy as np
import pytest

from ethogram.errors import LabelError
from ethogram.io.labels import (
    check_background,
    fill_background,
    read_labels,
    write_labels,
)

BEHAVIORS = ["background", "groom", "rear"]


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_round_trip_keeps_values_and_deepethogram_layout(tmp_path):
    values = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [-1, -1, -1]], dtype=np.int8)
    path = tmp_path / "v_labels.csv"
    write_labels(path, values, BEHAVIORS)
    lines = path.read_text().splitlines()
    assert lines[0] == ",background,groom,rear"  # unnamed index column first
    assert lines[1] == "0,1,0,0"
    table = read_labels(path)
    np.testing.assert_array_equal(table.values, values)
    assert table.behaviors == BEHAVIORS
    assert table.values.dtype == np.int8


def test_reads_file_written_by_deepethogram(deg_project):
    table = read_labels(deg_project / "DATA" / "vid0" / "vid0_labels.csv")
    assert table.behaviors == ["background", "still", "fast", "groom"]
    assert table.values.shape == (600, 4)
    check_background(table.values, table.path)


def test_wrong_length_names_file_and_both_counts(tmp_path):
    path = tmp_path / "a_labels.csv"
    write_labels(path, np.zeros((5, 3), np.int8) + [1, 0, 0], BEHAVIORS)
    with pytest.raises(LabelError, match=r"a_labels.csv.*5 rows.*video has 7 frames"):
        read_labels(path, n_frames=7)


def test_missing_behavior_column_is_named(tmp_path):
    path = _write_csv(tmp_path / "m.csv", ",background,groom\n0,1,0\n")
    with pytest.raises(LabelError, match=r"m.csv: missing behavior column\(s\) \['rear'\]"):
        read_labels(path, behaviors=BEHAVIORS)


def test_unknown_behavior_column_is_named(tmp_path):
    path = _write_csv(tmp_path / "u.csv", ",background,groom,rear,sniff\n0,1,0,0,0\n")
    with pytest.raises(LabelError, match=r"u.csv: unknown behavior column\(s\) \['sniff'\]"):
        read_labels(path, behaviors=BEHAVIORS)


def test_columns_in_another_order_are_reordered(tmp_path):
    path = _write_csv(tmp_path / "o.csv", ",background,rear,groom\n0,0,0,1\n1,0,1,0\n")
    table = read_labels(path, behaviors=BEHAVIORS)
    np.testing.assert_array_equal(table.values, [[0, 1, 0], [0, 0, 1]])


def test_value_outside_allowed_set_is_named_with_frame_and_column(tmp_path):
    path = _write_csv(tmp_path / "v.csv", ",background,groom,rear\n0,1,0,0\n1,0,2,0\n")
    with pytest.raises(LabelError, match=r"v.csv: values must be 1, 0 or -1; found 2 at frame 1 "):
        read_labels(path)


def test_text_value_is_rejected(tmp_path):
    path = _write_csv(tmp_path / "t.csv", ",background,groom,rear\n0,1,0,yes\n")
    with pytest.raises(LabelError, match=r"found 'yes' at frame 0 column 'rear'"):
        read_labels(path)


def test_nan_is_named_with_frame(tmp_path):
    path = _write_csv(tmp_path / "n.csv", ",background,groom,rear\n0,1,0,0\n1,0,,0\n")
    with pytest.raises(LabelError, match=r"n.csv: empty or NaN values at frame\(s\) 1"):
        read_labels(path)


def test_background_must_come_first(tmp_path):
    path = _write_csv(tmp_path / "b.csv", ",groom,background\n0,1,0\n")
    with pytest.raises(LabelError, match="first behavior column must be 'background'"):
        read_labels(path)


def test_empty_file_is_explained(tmp_path):
    path = _write_csv(tmp_path / "e.csv", "")
    with pytest.raises(LabelError, match="e.csv: the file is empty"):
        read_labels(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(LabelError, match="nope.csv: label file not found"):
        read_labels(tmp_path / "nope.csv")


def test_replacing_labels_keeps_a_backup(tmp_path):
    path = tmp_path / "v_labels.csv"
    first = np.array([[1, 0, 0], [0, 1, 0]], np.int8)
    write_labels(path, first, BEHAVIORS)
    old_text = path.read_text()
    backup = write_labels(path, np.array([[0, 0, 1], [0, 0, 1]], np.int8), BEHAVIORS)
    assert backup is not None and backup.read_text() == old_text
    assert read_labels(path).values[0, 2] == 1


def test_failed_write_leaves_old_file_untouched(tmp_path):
    path = tmp_path / "v_labels.csv"
    write_labels(path, np.array([[1, 0, 0]], np.int8), BEHAVIORS)
    before = path.read_bytes()
    with pytest.raises(LabelError):
        write_labels(path, np.array([[1, 0, 5]], np.int8), BEHAVIORS)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v_labels.csv"]


def test_background_rule_is_checked_and_filled():
    values = np.array([[0, 0, 0], [1, 1, 0], [-1, -1, -1]], np.int8)
    with pytest.raises(LabelError, match=r"frame\(s\) 0, 1"):
        check_background(values)
    filled = fill_background(values)
    np.testing.assert_array_equal(filled[:, 0], [1, 0, -1])
    check_background(filled)


def test_rows_in_another_order_are_placed_by_their_index(tmp_path):
    values = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], dtype=np.int8)
    lines = [",background,groom,rear"] + [
        f"{i}," + ",".join(str(v) for v in values[i]) for i in (3, 2, 1, 0)
    ]
    path = _write_csv(tmp_path / "v_labels.csv", "\n".join(lines) + "\n")
    np.testing.assert_array_equal(read_labels(path, behaviors=BEHAVIORS).values, values)


@pytest.mark.parametrize(
    ("index", "found"),
    [
        ((0, 1, 1), "found frame 1 more than once"),
        ((0, 1, 5), "found frame 5 in a file of 3 rows"),
        ((1, 2, 3), "found frame 3 in a file of 3 rows"),
        (("0", "x", "2"), "found 'x' on line 3"),
    ],
)
def test_index_that_is_not_each_frame_once_names_the_file(tmp_path, index, found):
    lines = [",background,groom,rear"] + [f"{i},1,0,0" for i in index]
    path = _write_csv(tmp_path / "v_labels.csv", "\n".join(lines) + "\n")
    with pytest.raises(LabelError, match=f"v_labels.csv: the index column .*{found}"):
        read_labels(path)


def test_duplicate_behavior_column_is_named_as_written(tmp_path):
    path = _write_csv(
        tmp_path / "v_labels.csv", ",background,locomotion,locomotion\n0,1,0,0\n1,0,1,1\n"
    )
    with pytest.raises(LabelError) as caught:
        read_labels(path)
    message = str(caught.value)
    assert "v_labels.csv: duplicate behavior column(s) ['locomotion']" in message
    assert "locomotion.1" not in message
