"""The by-eye locomotion labels of the openfield video (benchmarks/data) import as a user would."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from ethogram.cli.main import app
from ethogram.project import Project
from tests.conftest import REPO

LABELS = REPO / "benchmarks" / "data" / "openfield_m3v1_locomotion_bouts.csv"


def test_the_openfield_locomotion_labels_import_into_a_project_of_that_video(
    tmp_path, openfield_video
):
    project_dir = tmp_path / "proj"
    runner = CliRunner()
    for args in (
        ["new", project_dir, "--behaviors", "locomotion"],
        ["add", project_dir, openfield_video],
        ["import-labels", project_dir, LABELS, "--video", openfield_video.stem],
    ):
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    values = Project.open(project_dir).read_labels(openfield_video.stem).values
    assert values.shape == (2330, 2)
    assert (values >= 0).all()  # every frame labeled: locomotion or background
    assert values[:, 1].sum() == 1292 and (values.sum(axis=1) == 1).all()
    starts = np.flatnonzero(np.diff(np.r_[0, values[:, 1]]) == 1)
    assert len(starts) == 13 and starts[0] == 0 and starts[-1] == 2200
