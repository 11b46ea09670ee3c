"""Training the two-stream feature extractor on a tiny generated project."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ethogram.errors import ModelError
from ethogram.io.labels import write_labels
from ethogram.io.video import write_video
from ethogram.models.checkpoint import load_training_checkpoint
from ethogram.models.folder import read_metrics
from ethogram.project import Project
from ethogram.sample import SAMPLE_BEHAVIORS, render_sample
from ethogram.train.features import train_features

TINY = [
    "features.arch=resnet18",
    "features.input_size=32",
    "flow.size=32",
    "features.width=0.125",
    "features.n_flows=4",
    "train.stream_epochs=1",
    "train.epochs=2",
    "train.steps_per_epoch=4",
    "train.batch_size=16",
    "train.lr=0.003",
    "device=cpu",
]


def make_tiny_project(root: Path, n_videos: int = 3, n_frames: int = 72) -> Project:
    """A project of ``n_videos`` generated 32 px videos; the first 8 frames of each unlabeled."""
    project = Project.create(root / "proj", SAMPLE_BEHAVIORS)
    src = root / "src"
    src.mkdir()
    for i in range(n_videos):
        frames, labels = render_sample(n_frames, seed=1, size=32, index=i)
        video = write_video(src / f"vid{i}.mp4", frames, fps=30)
        labels = labels.copy()
        labels[:8] = -1
        write_labels(src / f"vid{i}_labels.csv", labels, SAMPLE_BEHAVIORS, backup=False)
        project.add_video(video, labels=src / f"vid{i}_labels.csv")
    return project


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory):
    return make_tiny_project(tmp_path_factory.mktemp("features"))


def test_training_reduces_loss_and_writes_model_folder(tiny_project, caplog):
    settings = tiny_project.settings("fast", TINY)
    with caplog.at_level(logging.WARNING, logger="ethogram"):
        model_dir = train_features(tiny_project, settings, progress=False)
    assert model_dir.parent == tiny_project.models_dir and "_features_" in model_dir.name
    for name in ("config.yaml", "split.yaml", "checkpoint.pt", "best.pt", "metrics.json"):
        assert (model_dir / name).is_file(), name
    assert (model_dir / "figures" / "training_curves.png").stat().st_size > 0
    metrics = read_metrics(model_dir)
    epochs = metrics["epochs"]
    assert [e["phase"] for e in epochs] == ["spatial", "flow", "fused", "fused"]
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert len(metrics["thresholds"]) == len(SAMPLE_BEHAVIORS)
    assert metrics["class_names"] == SAMPLE_BEHAVIORS
    assert len(epochs[-1]["val_f1"]) == len(SAMPLE_BEHAVIORS)
    from ethogram.train.validation_support import thin_behaviors

    val_labels = [tiny_project.read_labels(s).values for s in metrics["split"]["val"]]
    assert metrics["thin_validation_behaviors"] == thin_behaviors(val_labels, SAMPLE_BEHAVIORS)
    assert metrics["thin_validation_behaviors"]  # 72-frame videos: too little of something
    from ethogram.label_counts import count_bouts

    used = [
        tiny_project.read_labels(s).values
        for s in metrics["split"]["train"] + metrics["split"]["val"]
    ]
    assert metrics["labeled_bouts"] == count_bouts(used, SAMPLE_BEHAVIORS)
    assert sum(c["bouts"] for c in metrics["labeled_bouts"].values()) > 0
    few = [name for name, c in metrics["labeled_bouts"].items() if c["bouts"] < 10]
    assert few  # 72-frame videos: a few bouts of each behavior at most
    warned = [r.getMessage() for r in caplog.records if "few labeled bouts" in r.getMessage()]
    assert len(warned) == 1 and all(name in warned[0] for name in few)
    split = yaml.safe_load((model_dir / "split.yaml").read_text())
    assert sorted(split["train"] + split["val"] + split["test"]) == ["vid0", "vid1", "vid2"]
    assert split["val"] and not set(split["train"]) & set(split["val"])
    assert metrics["split"]["train"] == split["train"]
    best = load_training_checkpoint(model_dir / "best.pt")
    assert best["epoch"] >= 2  # only fused epochs can be best
    assert best["extra"]["thresholds"] == pytest.approx(metrics["thresholds"])
    # in use: halfway from 0.5 to the F1-maximizing thresholds (train.threshold_shrink=0.5)
    best_val = np.asarray(metrics["val"]["best_thresholds"])
    np.testing.assert_allclose(metrics["thresholds"], 0.5 + 0.5 * (best_val - 0.5), rtol=1e-6)


def test_same_seed_gives_same_split_and_same_weights(tiny_project):
    settings = tiny_project.settings("fast", TINY + ["train.stream_epochs=0", "train.epochs=1"])
    a = train_features(tiny_project, settings, progress=False)
    b = train_features(tiny_project, settings, progress=False)
    assert (a / "split.yaml").read_text() == (b / "split.yaml").read_text()
    wa = load_training_checkpoint(a / "checkpoint.pt")["model"]
    wb = load_training_checkpoint(b / "checkpoint.pt")["model"]
    assert all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)


def train_until_interrupted(project, settings, monkeypatch, epoch: int = 3) -> Path:
    """Train until a KeyboardInterrupt in ``epoch``; return the interrupted model folder."""
    from ethogram.train import feature_trainer

    original = feature_trainer.FeatureTrainer.train_epoch

    def interrupt(self, current):
        if current == epoch:
            raise KeyboardInterrupt
        return original(self, current)

    with monkeypatch.context() as patch:
        patch.setattr(feature_trainer.FeatureTrainer, "train_epoch", interrupt)
        with pytest.raises(KeyboardInterrupt):
            train_features(project, settings, progress=False)
    return project.model_dirs("features")[-1]


def test_interrupted_training_resumes_at_next_epoch(tiny_project, monkeypatch):
    settings = tiny_project.settings("fast", TINY)
    model_dir = train_until_interrupted(tiny_project, settings, monkeypatch)
    assert load_training_checkpoint(model_dir / "checkpoint.pt")["epoch"] == 2
    assert [e["epoch"] for e in json.loads((model_dir / "metrics.json").read_text())["epochs"]] == [
        0,
        1,
        2,
    ]
    resumed = train_features(tiny_project, settings, resume=model_dir, progress=False)
    assert resumed == model_dir
    assert [e["epoch"] for e in read_metrics(model_dir)["epochs"]] == [0, 1, 2, 3]
    assert load_training_checkpoint(model_dir / "checkpoint.pt")["epoch"] == 3


def test_resume_of_a_folder_that_is_not_a_feature_model_is_refused(tiny_project, tmp_path):
    with pytest.raises(ModelError, match="not a feature model directory"):
        train_features(tiny_project, tiny_project.settings("fast", TINY), resume=tmp_path)


def _project_of(root: Path, videos: dict[str, np.ndarray]) -> Project:
    """A project of the given frames, labeled locomotion and background in turn (10 frames)."""
    project = Project.create(root / "proj", SAMPLE_BEHAVIORS)
    for stem, frames in videos.items():
        video = write_video(root / f"{stem}.mp4", frames, fps=30)
        labels = np.zeros((len(frames), len(SAMPLE_BEHAVIORS)), np.int8)
        labels[:, 0] = (np.arange(len(frames)) // 10) % 2
        labels[:, 1] = 1 - labels[:, 0]
        write_labels(root / f"{stem}_labels.csv", labels, SAMPLE_BEHAVIORS, backup=False)
        project.add_video(video, labels=root / f"{stem}_labels.csv")
    return project


def _moving_box(n_frames: int, box: tuple[int, int], step: int) -> np.ndarray:
    frames = np.full((n_frames, 64, 64, 3), 190, np.uint8)
    for t in range(n_frames):
        x, y = (4 + step * t) % (64 - box[1]), 20 + (t // 8) % 20
        frames[t, y : y + box[0], x : x + box[1]] = 30
    return frames


def test_crop_auto_is_resolved_from_the_videos_and_saved(tmp_path, caplog):
    from ethogram.config import read_settings
    from ethogram.data.animal_crop import MAX_AUTO_WINDOW, inspect_video, resolve_crop

    def files(project, stems):
        return {stem: project.video(stem).video_path for stem in stems}

    walking = _project_of(tmp_path / "walk", {f"walk{i}": _moving_box(48, (6, 10), 1 + i)
                                              for i in range(2)})  # fmt: skip
    settings = walking.settings(
        "fast", TINY + ["train.stream_epochs=0", "train.epochs=1", "features.crop=auto"]
    )
    model_dir = train_features(walking, settings, progress=False)
    saved = read_settings(model_dir / "config.yaml").features
    assert saved.crop == "animal" and saved.crop_motion  # the motion stream's flow cropped too
    # the backgrounds measured for the decision are handed on, not read again
    _, backgrounds = resolve_crop(files(walking, ["walk0", "walk1"]), settings)
    assert sorted(backgrounds) == ["walk0", "walk1"]
    assert backgrounds["walk0"].shape == (64, 64, 3)
    # a large animal: the window grows to fit it (to the smallest 5 % step), and the log says so
    large = _project_of(tmp_path / "large", {"large": _moving_box(48, (12, 18), 1)})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ethogram.data.animal_crop"):
        grown = resolve_crop(files(large, ["large"]), settings)[0].features
    _, check = inspect_video(large.video("large").video_path)
    assert grown.crop == "animal" and settings.features.crop_size == 0.4
    assert grown.crop_size - 0.05 < check.window_needed <= grown.crop_size <= MAX_AUTO_WINDOW
    assert check.problem(grown.crop_size) is None and check.problem(0.4) is not None
    assert f"window of {grown.crop_size:.0%} of the frame (grown from 40%" in caplog.messages[0]
    # an "animal" far too large for any window: whole frames, and the log says which and why
    big = _project_of(tmp_path / "big", {"big": _moving_box(48, (40, 40), 1)})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ethogram.data.animal_crop"):
        assert resolve_crop(files(big, ["big"]), settings)[0].features.crop == "none"
    assert "big: the animal spans" in caplog.messages[0] and "-> none" in caplog.messages[0]
    assert "too much for a window of 70%" in caplog.messages[0]  # the largest window tried
    # an animal that never moves is part of the background: not found
    still = _project_of(tmp_path / "still", {"still": _moving_box(1, (6, 10), 0).repeat(48, 0)})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ethogram.data.animal_crop"):
        assert resolve_crop(files(still, ["still"]), settings)[0].features.crop == "none"
    assert "found in only 0%" in caplog.messages[0]
    plain = walking.settings("fast", TINY + ["features.crop=none"])
    assert resolve_crop(files(walking, ["walk0"]), plain) == (plain, {})  # other values: unchanged
    # MotionNet computes the flow of whole frames: crop_motion is turned off, and said
    learned = walking.settings("fast", TINY + ["features.crop=animal", "flow.method=motionnet"])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ethogram.data.animal_crop"):
        resolved, _ = resolve_crop(files(walking, ["walk0"]), learned)
    assert not resolved.features.crop_motion and learned.features.crop_motion
    assert caplog.messages == [
        "features.crop_motion -> false: flow.method=motionnet computes the flow of whole frames"
    ]


@pytest.mark.parametrize("keep", ["last", "best"])
def test_keep_decides_which_epochs_weights_are_saved(tiny_project, monkeypatch, keep):
    from ethogram.train import feature_trainer

    validate = feature_trainer.FeatureTrainer.validate
    scripted = {2: 0.9, 3: 0.5, 4: 0.4}  # fused epochs: the first is best, then worse

    def scripted_validate(self, epoch):
        out = validate(self, epoch)
        return {**out, "val_f1_macro": scripted.get(epoch, out["val_f1_macro"])}

    monkeypatch.setattr(feature_trainer.FeatureTrainer, "validate", scripted_validate)
    overrides = ["train.epochs=3", "train.patience=1", f"train.keep={keep}"]
    model_dir = train_features(tiny_project, tiny_project.settings("fast", TINY + overrides),
                               progress=False)  # fmt: skip
    best = load_training_checkpoint(model_dir / "best.pt")
    last = load_training_checkpoint(model_dir / "checkpoint.pt")
    metrics = read_metrics(model_dir / "metrics.json")
    assert metrics["keep"] == keep
    if keep == "last":  # no early stopping: every epoch runs, and the last one is kept
        assert [e["epoch"] for e in metrics["epochs"]] == [0, 1, 2, 3, 4]
        assert best["epoch"] == last["epoch"] == metrics["best_epoch"] == 4
        assert all(torch.equal(best["model"][k], last["model"][k]) for k in last["model"])
    else:  # epoch 3 brought no improvement: stopped there, epoch 2 kept
        assert [e["epoch"] for e in metrics["epochs"]] == [0, 1, 2, 3]
        assert metrics["stopped_early"] and best["epoch"] == metrics["best_epoch"] == 2
        changed = [k for k in last["model"] if last["model"][k].is_floating_point()]
        assert any(not torch.equal(best["model"][k], last["model"][k]) for k in changed)
    assert len(best["extra"]["thresholds"]) == len(SAMPLE_BEHAVIORS)


def test_blocks_validation_trains_every_video_and_a_refit_reproduces_with_the_same_seed(
    tmp_path, caplog
):
    project = make_tiny_project(tmp_path, n_videos=2, n_frames=170)
    overrides = TINY + ["train.stream_epochs=0", "train.epochs=1", "train.block_frames=30",
                        "train.validation=blocks", "train.refit=true"]  # fmt: skip
    settings = project.settings("fast", overrides)
    with caplog.at_level(logging.INFO, logger="ethogram.train"):
        a = train_features(project, settings, progress=False)
    notes = [r.getMessage() for r in caplog.records]
    assert any(
        n.startswith("split: validation on blocks inside every labeled video") for n in notes
    )
    assert any(n.startswith("refit: training the feature extractor again") for n in notes)
    b = train_features(project, settings, progress=False)
    metrics = read_metrics(a)
    assert metrics["validation"]["mode"] == "blocks"
    assert metrics["split"] == {"train": ["vid0", "vid1"], "val": ["vid0", "vid1"], "test": []}
    blocks = yaml.safe_load((a / "split.yaml").read_text())["val_blocks"]
    assert sorted(blocks) == ["vid0", "vid1"] and all(len(v) == 1 for v in blocks.values())
    assert metrics["refit"]["epochs"] == 1 and metrics["refit"]["videos"] == ["vid0", "vid1"]
    refit_a = load_training_checkpoint(a / "best.pt")
    refit_b = load_training_checkpoint(b / "best.pt")
    fitted = load_training_checkpoint(a / "validation_fit.pt")
    assert refit_a["extra"]["thresholds"] == fitted["extra"]["thresholds"] == metrics["thresholds"]
    wa, wb, wf = refit_a["model"], refit_b["model"], fitted["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wf[k]) for k in wa)  # trained on more frames
