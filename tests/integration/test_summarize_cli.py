"""``ethogram summarize`` on a folder of CSVs, on a hand-made project and on a DeepEthogram one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from ethogram.io.labels import write_labels
from ethogram.summarize import BOUT_COLUMNS, SUMMARY_COLUMNS
from tests.conftest import make_video, run_cli, snapshot

NAMES = ["background", "groom", "rear"]
PNG = b"\x89PNG\r\n\x1a\n"


def ethogram(
    n_frames: int, groom: list[tuple[int, int]], rear: list[tuple[int, int]]
) -> np.ndarray:
    """Values (T, 3) with groom and rear present on the given [start, end) frame ranges."""
    values = np.zeros((n_frames, 3), np.int8)
    for start, end in groom:
        values[start:end, 1] = 1
    for start, end in rear:
        values[start:end, 2] = 1
    values[:, 0] = values[:, 1:].max(axis=1) == 0
    return values


def row(summary: pd.DataFrame, video: str, behavior: str) -> pd.Series:
    found = summary[(summary["video"] == video) & (summary["behavior"] == behavior)]
    assert len(found) == 1, summary
    return found.iloc[0]


def test_folder_of_prediction_csvs_with_fps(tmp_path):
    folder = tmp_path / "preds"
    # m1 at 10 fps: groom 10 frames in bouts of 4 and 6 (first at frame 2), rear 3 frames at 20
    write_labels(folder / "m1_predictions.csv", ethogram(30, [(2, 6), (10, 16)], [(20, 23)]), NAMES)
    write_labels(folder / "m2_predictions.csv", ethogram(40, [], [(0, 40)]), NAMES)
    out = tmp_path / "results" / "summary.csv"
    result = run_cli("summarize", folder, "--fps", "10", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "m1" in result.stdout and "groom" in result.stdout

    summary = pd.read_csv(out)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) == 4  # 2 videos x 2 behaviors, background left out
    groom = row(summary, "m1", "groom")
    assert groom["total_frames"] == 10
    assert groom["total_s"] == pytest.approx(1.0)
    assert groom["fraction"] == pytest.approx(10 / 30)
    assert groom["n_bouts"] == 2
    assert groom["mean_bout_s"] == pytest.approx(0.5)
    assert groom["median_bout_s"] == pytest.approx(0.5)
    assert groom["latency_s"] == pytest.approx(0.2)
    assert row(summary, "m2", "rear")["fraction"] == pytest.approx(1.0)
    assert np.isnan(row(summary, "m2", "groom")["latency_s"])

    bouts = pd.read_csv(tmp_path / "results" / "bouts" / "m1_bouts.csv")
    assert list(bouts.columns) == BOUT_COLUMNS
    assert bouts[["behavior", "start_frame", "end_frame"]].values.tolist() == [
        ["groom", 2, 5],
        ["groom", 10, 15],
        ["rear", 20, 22],
    ]
    for name in ("m1", "m2"):
        figure = tmp_path / "results" / "figures" / f"{name}_ethogram.png"
        assert figure.read_bytes()[:8] == PNG


def test_folder_without_fps_exits_2_naming_the_problem(tmp_path):
    write_labels(tmp_path / "m1_predictions.csv", ethogram(10, [(1, 3)], []), NAMES)
    result = run_cli("summarize", tmp_path, "--out", tmp_path / "summary.csv")
    assert result.returncode == 2
    assert "--fps is required" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "summary.csv").exists()


def test_folder_of_plain_csvs_skips_its_own_outputs_on_a_second_run(tmp_path):
    write_labels(tmp_path / "a.csv", ethogram(10, [(1, 3)], []), NAMES)
    write_labels(tmp_path / "b.csv", ethogram(10, [], [(5, 10)]), NAMES)
    out = tmp_path / "summary.csv"
    for _ in range(2):
        result = run_cli("summarize", tmp_path, "--fps", "5", "--out", out, "--no-figures")
        assert result.returncode == 0, result.stderr
    summary = pd.read_csv(out)
    assert sorted(set(summary["video"])) == ["a", "b"]
    assert row(summary, "b", "rear")["total_s"] == pytest.approx(1.0)
    assert not (tmp_path / "figures").exists()


def make_project(root, videos: dict[str, dict]) -> None:
    """A project folder written by hand: project_config.yaml and DATA/<stem>/ files."""
    config = {"project": {"name": "handmade", "class_names": NAMES, "data_path": "DATA"}}
    root.mkdir(parents=True)
    (root / "project_config.yaml").write_text(yaml.safe_dump(config))
    for stem, files in videos.items():
        folder = root / "DATA" / stem
        folder.mkdir(parents=True)
        make_video(folder / f"{stem}.mp4", n_frames=files["n_frames"])  # 30 fps
        for kind in ("predictions", "labels"):
            if kind in files:
                write_labels(folder / f"{stem}_{kind}.csv", files[kind], NAMES, backup=False)


def test_project_uses_predictions_and_the_video_frame_rate(tmp_path):
    project = tmp_path / "proj"
    make_project(
        project,
        {
            # a: groom for 15 frames (0.5 s at 30 fps) starting at frame 3
            "a": {"n_frames": 24, "predictions": ethogram(24, [(3, 18)], [])},
            "b": {"n_frames": 12, "labels": ethogram(12, [], [(6, 12)])},  # no predictions
        },
    )
    before = snapshot(project)
    out = tmp_path / "out" / "summary.csv"
    result = run_cli("summarize", project, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Skipped 1 video(s) without predictions: b" in result.stdout
    summary = pd.read_csv(out)
    assert set(summary["video"]) == {"a"}
    groom = row(summary, "a", "groom")
    assert groom["fps"] == pytest.approx(30.0)
    assert groom["total_s"] == pytest.approx(0.5)
    assert groom["latency_s"] == pytest.approx(0.1)
    assert (tmp_path / "out" / "figures" / "a_ethogram.png").read_bytes()[:8] == PNG
    assert (tmp_path / "out" / "bouts" / "a_bouts.csv").is_file()
    assert snapshot(project) == before  # the project is only read

    result = run_cli("summarize", project, "--labels", "--out", out)
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(out)
    assert set(summary["video"]) == {"b"}
    assert row(summary, "b", "rear")["total_s"] == pytest.approx(0.2)


def test_fps_option_replaces_the_video_frame_rate_in_a_project(tmp_path):
    project = tmp_path / "proj"
    make_project(project, {"a": {"n_frames": 20, "predictions": ethogram(20, [(0, 10)], [])}})
    out = tmp_path / "summary.csv"
    result = run_cli("summarize", project, "--fps", "10", "--out", out, "--no-figures")
    assert result.returncode == 0, result.stderr
    assert row(pd.read_csv(out), "a", "groom")["total_s"] == pytest.approx(1.0)


def test_project_without_predictions_exits_2_and_suggests_predict(tmp_path):
    project = tmp_path / "proj"
    make_project(project, {"a": {"n_frames": 8, "labels": ethogram(8, [(0, 2)], [])}})
    result = run_cli("summarize", project, "--out", tmp_path / "summary.csv")
    assert result.returncode == 2
    assert "ethogram predict" in result.stderr and "--labels" in result.stderr


def test_missing_target_exits_2(tmp_path):
    result = run_cli("summarize", tmp_path / "nope", "--fps", "30", "--out", tmp_path / "s.csv")
    assert result.returncode == 2
    assert "not found" in result.stderr


def test_deepethogram_project_predictions_and_labels(deg_project, tmp_path):
    for extra in ([], ["--labels"]):
        out = tmp_path / ("labels" if extra else "predictions") / "summary.csv"
        result = run_cli("summarize", deg_project, "--out", out, *extra)
        assert result.returncode == 0, result.stderr
        summary = pd.read_csv(out)
        assert sorted(set(summary["video"])) == ["vid0", "vid1"]
        assert set(summary["behavior"]) == {"still", "fast", "groom"}
        assert (summary["n_frames"] == 600).all()
        assert (out.parent / "figures" / "vid0_ethogram.png").is_file()


def test_unreadable_video_exits_2_suggesting_fps_and_fps_gets_around_it(tmp_path):
    project = tmp_path / "proj"
    make_project(project, {"a": {"n_frames": 10, "predictions": ethogram(10, [(0, 5)], [])}})
    (project / "DATA" / "a" / "a.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "summary.csv"
    result = run_cli("summarize", project, "--out", out)
    assert result.returncode == 2
    assert "a.mp4" in result.stderr and "--fps" in result.stderr
    result = run_cli("summarize", project, "--out", out, "--fps", "5", "--no-figures")
    assert result.returncode == 0, result.stderr
    assert row(pd.read_csv(out), "a", "groom")["total_s"] == pytest.approx(1.0)
