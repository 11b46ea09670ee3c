"""Training as a library call: results, notes on the ``ethogram.train`` logger, errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ethogram.errors import ConfigError, EthogramError, ProjectError
from ethogram.train.pipeline import train_project
from tests.integration.test_train_sequence import FEATURE_DIR, make_feature_project

SEQUENCE = [
    "device=cpu",
    "sequence.epochs=1",
    "sequence.window=48",
    "sequence.hidden=8",
    "sequence.n_filters=4",
    "sequence.num_layers=1",
    "sequence.steps_per_epoch=2",
]


def test_the_sequence_stage_returns_its_folder_and_validation_f1_and_logs_notes(tmp_path, caplog):
    project = make_feature_project(tmp_path / "proj", n_videos=4, n_frames=80)
    with caplog.at_level(logging.INFO, logger="ethogram.train"):
        result = train_project(project.root, stage="sequence", overrides=SEQUENCE, progress=False)
    [done] = result.stages
    assert done.stage == "sequence" and result.model_dir("sequence") == done.model_dir
    assert done.model_dir.parent == project.models_dir and (done.model_dir / "best.pt").is_file()
    assert 0.0 <= done.validation_f1 <= 1.0
    assert result.model_dir("features") is None
    assert done.model_dir / "figures" / "training_curves.png" in done.figures
    notes = [r.getMessage() for r in caplog.records if r.name == "ethogram.train"]
    assert notes[0] == "Training stage sequence"
    assert notes[1] == done.summary()
    assert f"validation macro F1 {done.validation_f1:.3f}" in notes[1]


def test_training_without_labels_raises_the_readiness_message_before_any_folder(tmp_path):
    project = make_feature_project(tmp_path / "proj", n_videos=2, n_frames=60)
    for record in project.videos:
        record.labels_path.unlink()
    with pytest.raises(ProjectError, match="no labeled videos"):
        train_project(project, progress=False)
    assert [p.name for p in project.model_dirs()] == [FEATURE_DIR]


def test_a_resume_folder_of_another_stage_is_refused(tmp_path):
    project = make_feature_project(tmp_path / "proj", n_videos=2, n_frames=60)
    with pytest.raises(ConfigError, match="is a features model, not sequence"):
        train_project(project, stage="sequence", resume=project.models_dir / FEATURE_DIR)
    assert np.all([p.name == FEATURE_DIR for p in project.model_dirs()])


def test_a_stage_that_fails_before_its_first_checkpoint_leaves_no_model_folder(tmp_path):
    project = make_feature_project(tmp_path / "proj", n_videos=3, n_frames=60)  # videos: junk
    with pytest.raises(EthogramError, match="v0.mp4"):
        train_project(project, stage="features", overrides=["device=cpu"], progress=False)
    assert [p.name for p in project.model_dirs()] == [FEATURE_DIR]


def test_resume_trains_the_later_stages_with_the_interrupted_runs_settings(tmp_path, monkeypatch):
    from ethogram.config import read_settings
    from ethogram.train import feature_trainer
    from tests.integration.test_train_features import TINY, make_tiny_project

    project = make_tiny_project(tmp_path)
    run = [*TINY, "train.stream_epochs=0", "sequence.epochs=1", "sequence.window=24", *SEQUENCE[3:]]
    original = feature_trainer.FeatureTrainer.train_epoch

    def interrupt_second_epoch(self, epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return original(self, epoch)

    with monkeypatch.context() as patch:
        patch.setattr(feature_trainer.FeatureTrainer, "train_epoch", interrupt_second_epoch)
        with pytest.raises(KeyboardInterrupt):
            train_project(project, overrides=run, progress=False)
    [interrupted] = project.model_dirs("features")  # kept: it has a checkpoint
    result = train_project(project, resume=interrupted, overrides=["device=cpu"], progress=False)
    assert result.model_dir("features") == interrupted
    sequence = read_settings(result.model_dir("sequence") / "config.yaml").sequence
    assert (sequence.epochs, sequence.window, sequence.hidden) == (1, 24, 8)  # not the preset's


def test_a_stage_summary_says_where_validation_came_from_and_whether_it_was_refit(tmp_path):
    import json

    from ethogram.train.pipeline import stage_result

    folder = tmp_path / "261206_000000_features_x"
    folder.mkdir()
    metrics = {"stage": "features", "val": {"f1_macro": 0.9125}, "refit": {"epochs": 10},
               "validation": {"mode": "blocks", "reason": "..."}}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(metrics))
    line = stage_result("features", folder).summary()
    assert "(validation macro F1 0.912 on blocks inside the videos)" in line
    assert "(refit on every labeled frame)" in line
    metrics.update(validation={"mode": "videos"})
    del metrics["refit"]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    line = stage_result("features", folder).summary()
    assert "on whole videos)" in line and "refit" not in line
