"""`ethogram import-labels` and `ethogram export` as a user runs them."""

from __future__ import annotations

import numpy as np

from tests.conftest import run_cli, snapshot
from tests.interop_support import DATA, frames_of, make_project, random_labels


def test_import_labels_reports_points_subject_and_backs_up_old_labels(tmp_path):
    project = make_project(tmp_path)
    project.write_labels("mouse1", random_labels(seed=1))
    result = run_cli(
        "import-labels", project.root, DATA / "boris_tabular_v9.csv", "--subject", "mouse1"
    )
    assert result.returncode == 0, result.stderr
    assert "boris, subject 'mouse1') -> mouse1" in result.stdout
    assert "point events: 1 (one frame each; --points frame|skip)" in result.stdout
    assert "previous labels backed up to" in result.stdout
    assert frames_of(project.read_labels("mouse1").values, "groom") == list(range(3, 15))
    assert len(list((project.root / "DATA" / "mouse1" / "backups").iterdir())) == 1


def test_import_labels_error_is_one_line_with_exit_2_and_changes_nothing(tmp_path):
    project = make_project(tmp_path)
    before = snapshot(project.root)
    result = run_cli("import-labels", project.root, DATA / "boris_tabular_v9.csv")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "choose one with --subject" in result.stderr
    assert snapshot(project.root) == before


def test_export_then_import_labels_round_trips_every_video(tmp_path):
    project = make_project(tmp_path)
    labels = {"mouse1": random_labels(seed=7), "mouse2": random_labels(seed=8)}
    for stem, values in labels.items():
        project.write_labels(stem, values)
    out = tmp_path / "exported"
    result = run_cli("export", project.root, "--format", "boris", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Exported 2 video(s)" in result.stdout
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["mouse1_boris.csv", "mouse2_boris.csv"]
    result = run_cli("import-labels", project.root, *files, "--mode", "replace")
    assert result.returncode == 0, result.stderr
    for stem, values in labels.items():
        np.testing.assert_array_equal(project.read_labels(stem).values, values)
