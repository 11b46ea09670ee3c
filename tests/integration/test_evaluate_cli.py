"""``ethogram evaluate`` on CSV folders and on a hand-made project folder."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from ethogram.evaluate import load_project_pairs
from ethogram.io.labels import write_labels
from ethogram.io.outputs import write_group
from ethogram.project import Project
from tests.conftest import run_cli

BEHAVIORS = ["background", "groom", "rear"]


def labels_from(seq) -> np.ndarray:
    seq = np.asarray(seq)
    values = np.zeros((len(seq), 3), np.int8)
    values[np.arange(len(seq)), seq] = 1
    return values


TRUTH = np.repeat([0, 1, 0, 2, 0, 1, 0, 2], 6)  # 48 frames


def write_video(path, n_frames: int, fps: float = 25.0) -> None:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (32, 32))
    rng = np.random.default_rng(0)
    for _ in range(n_frames):
        writer.write(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    writer.release()


def test_csv_folders_pair_by_name_and_write_everything(tmp_path):
    lab, pred, out = tmp_path / "labels", tmp_path / "preds", tmp_path / "out"
    lab.mkdir()
    pred.mkdir()
    write_labels(lab / "a_labels.csv", labels_from(TRUTH), BEHAVIORS)
    write_labels(lab / "b.csv", labels_from(TRUTH), BEHAVIORS)
    write_labels(lab / "lonely_labels.csv", labels_from(TRUTH), BEHAVIORS)
    write_labels(pred / "a_predictions.csv", labels_from(TRUTH), BEHAVIORS)
    shifted = labels_from(np.r_[0, TRUTH[:-1]])
    frame = pd.DataFrame(shifted, columns=BEHAVIORS)[["rear", "groom", "background"]]
    frame.to_csv(pred / "b_predictions.csv")  # columns in another order
    result = run_cli("evaluate", "--labels", lab, "--predictions", pred, "--out", out, "--fps", 10)
    assert result.returncode == 0, result.stderr
    assert "lonely_labels.csv" in result.stderr and "warning" in result.stderr
    for name in ("Precision", "Recall", "AUROC", "Seg. F1@50", "Support", "groom", "rear"):
        assert name in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_videos"] == 2
    assert metrics["class_names"] == BEHAVIORS
    assert 0.9 < metrics["overall"]["f1_macro"] < 1.0  # one video shifted by a frame
    assert metrics["overall"]["segmental_f1"]["0.50"] == 1.0
    assert metrics["time_budget"][1]["true"]["mean_bout_s"] == 0.6  # 6 frames at 10 fps
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "figures" / "ethogram_a.png").is_file()


def test_mismatched_columns_name_the_file(tmp_path):
    lab, pred = tmp_path / "labels", tmp_path / "preds"
    lab.mkdir()
    pred.mkdir()
    write_labels(lab / "a.csv", labels_from(TRUTH), BEHAVIORS)
    write_labels(pred / "a.csv", labels_from(TRUTH), ["background", "groom", "scratch"])
    result = run_cli("evaluate", "--labels", lab, "--predictions", pred, "--out", tmp_path / "o")
    assert result.returncode == 2
    assert "a.csv" in result.stderr and "scratch" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_pairs_is_a_clear_error(tmp_path):
    lab, pred = tmp_path / "labels", tmp_path / "preds"
    lab.mkdir()
    pred.mkdir()
    write_labels(lab / "a_labels.csv", labels_from(TRUTH), BEHAVIORS)
    write_labels(pred / "b_predictions.csv", labels_from(TRUTH), BEHAVIORS)
    result = run_cli("evaluate", "--labels", lab, "--predictions", pred, "--out", tmp_path / "o")
    assert result.returncode == 2
    assert "no label/prediction pairs" in result.stderr
    assert not (tmp_path / "o").exists()


def test_project_mode_uses_the_model_split_probabilities_and_video_fps(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom", "rear"])
    rng = np.random.default_rng(0)
    model = project.models_dir / "250101_120000_sequence"
    model.mkdir()
    for stem in ("v1", "v2", "v3"):
        folder = project.data_dir / stem
        folder.mkdir()
        write_video(folder / f"{stem}.mp4", len(TRUTH), fps=25.0)
        write_labels(folder / f"{stem}_labels.csv", labels_from(TRUTH), BEHAVIORS)
        write_labels(folder / f"{stem}_predictions.csv", labels_from(TRUTH), BEHAVIORS)
        probs = np.clip(labels_from(TRUTH) * 0.7 + rng.random((len(TRUTH), 3)) * 0.3, 0, 1)
        write_group(
            folder / f"{stem}_outputs.h5",
            "tgmj",
            {
                "P": probs.astype(np.float32),
                "class_names": BEHAVIORS,
                "thresholds": np.full(3, 0.5, np.float32),
            },
            attrs={"model_dir": str(model)},
        )
    (model / "best.pt").write_bytes(b"")
    (model / "config.yaml").write_text("preset: fast\n")
    (model / "split.yaml").write_text(
        yaml.safe_dump({"train": ["v1"], "val": ["v2"], "test": ["v3", "gone"]})
    )
    epochs = [{"epoch": i, "train_loss": 1.0 / (i + 1), "val_f1_macro": 0.2 * i} for i in range(4)]
    (model / "metrics.json").write_text(json.dumps({"stage": "sequence", "epochs": epochs}))

    result = run_cli("evaluate", project.root)
    assert result.returncode == 0, result.stderr
    out = project.root / "evaluation" / model.name
    metrics = json.loads((out / "metrics.json").read_text())
    assert [v["name"] for v in metrics["per_video"]] == ["v3"]
    assert metrics["per_video"][0]["fps"] == 25.0
    assert metrics["overall"]["auroc_macro"] == 1.0
    assert metrics["time_budget"][1]["true"]["mean_bout_s"] == 6 / 25.0
    assert "gone" in result.stderr  # listed in the split, not in the project
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"pr_curves.png", "threshold_curves.png", "training_curves.png"} <= figs
    assert "preset: fast" in (out / "report.html").read_text()

    everything = load_project_pairs(project.root, split="all")
    assert [p.name for p in everything.pairs] == ["v1", "v2", "v3"]
    assert everything.model_dir == model
    assert everything.pairs[0].probabilities.shape == (len(TRUTH), 3)


def test_sequence_model_uses_the_split_of_its_feature_model(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom", "rear"])
    for stem in ("v1", "v2"):
        folder = project.data_dir / stem
        folder.mkdir()
        (folder / f"{stem}.mp4").write_bytes(b"")  # only its name matters here
        write_labels(folder / f"{stem}_labels.csv", labels_from(TRUTH), BEHAVIORS)
        write_labels(folder / f"{stem}_predictions.csv", labels_from(TRUTH), BEHAVIORS)
    features = project.models_dir / "250101_110000_features_resnet18"
    sequence = project.models_dir / "250101_120000_sequence_tgmj"
    for model in (features, sequence):
        model.mkdir()
        (model / "best.pt").write_bytes(b"")
    (features / "split.yaml").write_text(yaml.safe_dump({"train": ["v1"], "test": ["v2"]}))
    header = {"stage": "sequence", "feature_model_dir": f"proj/models/{features.name}"}
    (sequence / "metrics.json").write_text(json.dumps(header))
    found = load_project_pairs(project.root, fps=30)
    assert found.model_dir == sequence
    assert found.split_source == features / "split.yaml"
    assert [p.name for p in found.pairs] == ["v2"]


def test_label_rows_in_another_order_are_evaluated_by_frame(tmp_path):
    from ethogram.evaluate import load_folder_pairs

    lab, pred = tmp_path / "labels", tmp_path / "preds"
    lab.mkdir()
    pred.mkdir()
    truth = labels_from(TRUTH)
    pd.DataFrame(truth, columns=BEHAVIORS).iloc[::-1].to_csv(lab / "a_labels.csv")  # 47..0
    write_labels(pred / "a_predictions.csv", truth, BEHAVIORS)
    pairs, _, _ = load_folder_pairs(lab, pred)
    np.testing.assert_array_equal(pairs[0].labels, truth)


def test_duplicate_label_column_is_blamed_on_the_label_file(tmp_path):
    from ethogram.errors import LabelError
    from ethogram.evaluate import load_folder_pairs

    lab, pred = tmp_path / "labels", tmp_path / "preds"
    lab.mkdir()
    pred.mkdir()
    (lab / "a_labels.csv").write_text(",background,groom,groom\n0,1,0,0\n1,0,1,1\n")
    write_labels(pred / "a_predictions.csv", labels_from([0, 1]), BEHAVIORS)
    with pytest.raises(LabelError) as caught:
        load_folder_pairs(lab, pred)
    expected = f"{lab / 'a_labels.csv'}: duplicate behavior column(s) ['groom']"
    assert str(caught.value).startswith(expected)
