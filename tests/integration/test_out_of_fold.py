"""Out-of-fold logits for the sequence model, on a tiny generated project trained for real."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ethogram.data.clips import load_split
from ethogram.infer.extract import extract_project
from ethogram.io.outputs import read_outputs
from ethogram.models.checkpoint import load_training_checkpoint
from ethogram.models.folder import read_metrics
from ethogram.train.features import train_features
from ethogram.train.out_of_fold import OUT_OF_FOLD_DIR, fold_groups, out_of_fold_logits
from ethogram.train.sequence import train_sequence

from .test_train_features import TINY, make_tiny_project

SEQUENCE = ["sequence.epochs=2", "sequence.window=32", "sequence.hidden=8", "sequence.members=1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    project = make_tiny_project(tmp_path_factory.mktemp("oof"), n_videos=5, n_frames=64)
    settings = project.settings("fast", TINY)
    feature_dir = train_features(project, settings, progress=False)
    extract_project(project, model_dir=feature_dir, progress=False)
    sequence_dir = train_sequence(
        project,
        project.settings("fast", [*TINY, *SEQUENCE, "sequence.out_of_fold=2"]),
        feature_model_dir=feature_dir,
        progress=False,
    )
    return project, feature_dir, sequence_dir


def test_fold_groups_split_round_robin_and_never_leave_a_group_empty():
    assert fold_groups(["d", "a", "c", "b"], 2) == [["a", "c"], ["b", "d"]]
    assert fold_groups(["a", "b"], 5) == [["a"], ["b"]]
    assert fold_groups(["a"], 2) == [["a"]]
    assert fold_groups([], 2) == []


def test_each_fold_model_trains_without_the_videos_it_gives_logits_for(trained):
    project, feature_dir, _ = trained
    main = load_split(feature_dir / "split.yaml")
    assert len(main["train"]) == 3
    groups = fold_groups(main["train"], 2)
    for k, held in enumerate(groups):
        fold_dir = feature_dir / OUT_OF_FOLD_DIR / f"fold{k}"
        split = load_split(fold_dir / "split.yaml")
        assert sorted(split["train"]) == sorted(set(main["train"]) - set(held))
        assert split["val"] == main["val"] and split["test"] == []
        assert "thresholds" in read_metrics(fold_dir)
        for stem in held:
            fold_logits = read_outputs(fold_dir / f"{stem}_outputs.h5", "resnet18", ["logits"])
            own = read_outputs(project.video(stem).outputs_path, "resnet18", ["logits"])
            assert fold_logits["logits"].shape == own["logits"].shape
            assert not np.allclose(fold_logits["logits"], own["logits"])


def test_fold_models_make_as_many_passes_over_their_videos(trained):
    from ethogram.config import read_settings

    _, feature_dir, _ = trained
    main = read_settings(feature_dir / "config.yaml").train.steps_per_epoch  # 4 (TINY)
    fold0 = read_settings(feature_dir / OUT_OF_FOLD_DIR / "fold0" / "config.yaml")
    fold1 = read_settings(feature_dir / OUT_OF_FOLD_DIR / "fold1" / "config.yaml")
    # fold 0 holds out 2 of the 3 training videos and trains on 1, fold 1 trains on 2
    assert fold0.train.steps_per_epoch == round(main * 1 / 3)
    assert fold1.train.steps_per_epoch == round(main * 2 / 3)


def test_the_sequence_model_records_its_out_of_fold_videos(trained):
    _, feature_dir, sequence_dir = trained
    metrics = read_metrics(sequence_dir)
    assert metrics["out_of_fold_videos"] == sorted(load_split(feature_dir / "split.yaml")["train"])


def test_finished_folds_are_reused_and_training_again_gives_the_same_model(trained):
    project, feature_dir, sequence_dir = trained
    best = feature_dir / OUT_OF_FOLD_DIR / "fold0" / "best.pt"
    before = best.stat().st_mtime_ns
    again = train_sequence(
        project,
        project.settings("fast", [*TINY, *SEQUENCE, "sequence.out_of_fold=2"]),
        feature_model_dir=feature_dir,
        progress=False,
    )
    assert best.stat().st_mtime_ns == before
    first = load_training_checkpoint(sequence_dir / "best.pt")["model"]
    second = load_training_checkpoint(again / "best.pt")["model"]
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_off_and_single_video_give_no_out_of_fold_logits(trained):
    project, feature_dir, _ = trained
    train = load_split(feature_dir / "split.yaml")["train"]
    assert out_of_fold_logits(project, feature_dir, 0, train, progress=False) == {}
    assert out_of_fold_logits(project, feature_dir, 2, train[:1], progress=False) == {}
    logits = out_of_fold_logits(project, feature_dir, 2, train, progress=False)
    assert sorted(logits) == sorted(train)
    assert all(v.dtype == np.float32 and v.shape[1] == 5 for v in logits.values())
