"""One video through the whole chain: :class:`Predictor`, and what it is built from.

A :class:`Predictor` holds a model's loaded networks and post-processing settings and predicts one
video at a time: flow, features (reused from the outputs file when the same extractor made
them), the sequence model, post-processing, then its three files::

    <stem>_outputs.h5       features (feature extractor's group) and probabilities (model's group)
    <stem>_predictions.csv  DeepEthogram's label format: index column, background first, 0/1
    <stem>_bouts.csv        behavior, start/end frame, duration in frames and seconds

:func:`resolve_model_dir` picks the model and :func:`project_labels` the labels its minimum bout
lengths may need. :func:`ethogram.infer.predict.predict` runs a Predictor over many videos.

Examples
--------
>>> model_dir = resolve_model_dir(project)  # doctest: +SKIP
>>> predictor = Predictor(model_dir, label_arrays=project_labels(project))  # doctest: +SKIP
>>> probs = predictor.probabilities("s1.mp4", "s1_outputs.h5")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import EthogramError, ModelError
from ethogram.infer.targets import VideoTarget
from ethogram.io.outputs import list_groups, read_outputs, write_group

__all__ = [
    "Predictor",
    "VideoResult",
    "project_labels",
    "resolve_model_dir",
    "write_bouts",
]

DEFAULT_FPS = 30.0


@dataclass
class VideoResult:
    """What happened to one video: ``status`` is ``done``, ``skipped`` or ``failed``."""

    target: VideoTarget
    status: str
    reason: str = ""
    n_frames: int = 0
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def resolve_model_dir(project=None, model: str | Path | None = None) -> Path:
    """The model to predict with: ``model`` (a folder, or a name in the project's models/), else
    the project's newest sequence model, else its newest feature extractor."""
    from ethogram.models.folder import BEST_NAME, find_model_dir, latest_model_dir

    if model is not None:
        path = find_model_dir(project, model)
        if not (path / BEST_NAME).is_file():
            raise ModelError(f"{path}: no best.pt; is training of this model finished?")
        return path
    if project is None:
        raise ModelError("no model given: pass a project or a model folder (--model DIR)")
    return latest_model_dir(project, ("sequence", "features"), hint=" (or give --model DIR)")


def project_labels(project):
    """A function returning the label arrays of a project's labeled videos ([] without one)."""

    def read() -> list[np.ndarray]:
        if project is None:
            return []
        return [project.read_labels(r.stem).values for r in project.labeled_videos()]

    return read


def _resolve_exclusive(settings, metrics: dict, label_arrays) -> bool:
    """``postprocess.exclusive`` of a model: as set, else as decided at training, else labels."""
    from ethogram.infer.postprocess import resolve_exclusive

    setting = settings.postprocess.exclusive
    if setting == "auto" and metrics.get("exclusive") is not None:
        return bool(metrics["exclusive"])
    if setting != "auto":  # the labels are not needed: do not read them
        return resolve_exclusive(setting)
    arrays = label_arrays() if callable(label_arrays) else label_arrays
    return resolve_exclusive(setting, list(arrays))


def _sibling(path: Path | None, model_dir: Path) -> Path | None:
    """A model folder recorded as an absolute path: the same name beside ``model_dir`` if the
    project moved since."""
    if path is None:
        return None
    if path.is_dir():
        return path
    moved = model_dir.parent / path.name
    return moved if moved.is_dir() else path


class Predictor:
    """Loaded models and post-processing settings: predicts one video at a time.

    Parameters
    ----------
    model_dir
        A sequence model folder (its feature extractor is found from it) or a feature model folder.
    device
        ``auto``, ``cpu`` or ``cuda`` (default: the model's setting).
    label_arrays
        Labels used to estimate minimum bout lengths when the model does not record them
        (feature models): usually the project's labels. A list of arrays, or a function
        returning one (called only if needed).
    runtime
        ``torch`` or ``onnx``: what runs the feature extractor (default: the model's
        ``runtime`` setting); see :mod:`ethogram.infer.onnx_runtime`.
    """

    def __init__(
        self,
        model_dir: str | Path,
        device: str | None = None,
        label_arrays=(),
        runtime: str | None = None,
    ) -> None:
        from ethogram.config import read_settings
        from ethogram.infer.postprocess import resolve_min_bout
        from ethogram.models.device import choose_device
        from ethogram.models.folder import CONFIG_NAME, metrics_or_empty, model_stage

        self.model_dir = Path(model_dir)
        self.stage = model_stage(self.model_dir, ("features", "sequence"))
        self.settings = read_settings(self.model_dir / CONFIG_NAME)
        self.runtime = runtime or self.settings.runtime
        if self.runtime != "torch":
            from ethogram.infer.onnx_runtime import check_runtime

            check_runtime(self.runtime)  # before any work: onnxruntime may be missing
        self.device = choose_device(device or self.settings.device)
        metrics = metrics_or_empty(self.model_dir)
        self._sequence = None
        self._feature_model = None
        if self.stage == "sequence":
            from ethogram.infer.sequence import load_sequence_model

            self._sequence = load_sequence_model(self.model_dir, self.device)
            self.class_names = list(self._sequence.class_names)
            self.thresholds = np.asarray(self._sequence.thresholds, np.float32)
            self.feature_model_dir = _sibling(self._sequence.feature_model_dir, self.model_dir)
            self.group = self._sequence.arch
            min_bout = self._sequence.min_bout_frames
        else:
            self.class_names = list(metrics.get("class_names") or [])
            self.thresholds = np.asarray(metrics.get("thresholds") or [], np.float32)
            if not self.class_names or len(self.thresholds) != len(self.class_names):
                raise ModelError(
                    f"{self.model_dir}: its metrics.json has no thresholds, so its training did "
                    f"not finish; finish it with `ethogram train PROJECT --resume "
                    f"{self.model_dir}` or train again"
                )
            self.feature_model_dir = self.model_dir
            self.group = None  # known after extraction: the feature extractor's group
            min_bout = {}
        if self.feature_model_dir is None or not self.feature_model_dir.is_dir():
            raise ModelError(
                f"{self.model_dir}: its feature extractor {self.feature_model_dir} was not found"
            )
        if not min_bout and self.class_names:
            min_bout = resolve_min_bout(
                self.settings.postprocess.min_bout,
                self.class_names,
                list(label_arrays() if callable(label_arrays) else label_arrays),
                percentile=self.settings.postprocess.min_bout_percentile,
                fraction=self.settings.postprocess.min_bout_fraction,
            )
        self.min_bout_frames: dict[str, int] = dict(min_bout)
        self.exclusive = _resolve_exclusive(self.settings, metrics, label_arrays)

    # ---- models, loaded on first use -------------------------------------------------------
    @property
    def feature_model(self):
        """The feature extractor (:func:`ethogram.infer.feature_model.load_feature_model`)."""
        if self._feature_model is None:
            from ethogram.infer.feature_model import load_feature_model

            self._feature_model = load_feature_model(
                self.feature_model_dir, self.device.type, runtime=self.runtime
            )
        return self._feature_model

    @property
    def behaviors(self) -> list[str]:
        """Class names, ``background`` first."""
        return list(self.class_names)

    def _feature_group(self, outputs_path: Path) -> str | None:
        from ethogram.infer.sequence import feature_group

        return feature_group(outputs_path, self.feature_model_dir, self.settings.features.arch)

    def _model_group_current(self, outputs_path: Path, group: str | None) -> bool:
        if not group or group not in list_groups(outputs_path):
            return False
        stored = str(read_outputs(outputs_path, group, datasets=[])["attrs"].get("model_dir", ""))
        return bool(stored) and Path(stored).name == self.model_dir.name

    # ---- the chain -------------------------------------------------------------------------
    def extract(
        self,
        video: Path,
        outputs_path: Path,
        n_frames: int | None = None,
        recompute: bool = False,
    ) -> str:
        """Make sure ``outputs_path`` has this feature extractor's features; return the group.

        Features already there are reused unless ``recompute``, or unless their length differs
        from ``n_frames`` (the video was replaced since).
        """
        from ethogram.io.outputs import group_info

        group = None if recompute else self._feature_group(outputs_path)
        if group is not None and n_frames is not None:
            shape = group_info(outputs_path)[group]["datasets"].get("spatial_features", (None,))
            if shape[0] != n_frames:
                group = None
        if group is None:
            from ethogram.infer.extract import extract_video

            extract_video(video, self.feature_model, outputs_path, progress=False)
            group = self._feature_group(outputs_path)
            if group is None:
                raise ModelError(f"{outputs_path}: feature extraction wrote no features")
        return group

    def probabilities(
        self,
        video: str | Path,
        outputs_path: str | Path,
        overwrite: bool = False,
        n_frames: int | None = None,
        recompute_features: bool = False,
        file_attrs: dict[str, Any] | None = None,
    ) -> np.ndarray:
        """Per-frame probabilities (T, K) of a video, computing and storing what is missing.

        Features go to the feature extractor's group of ``outputs_path``; a sequence model's
        probabilities to its group (``tgmj``), with thresholds and class names.

        Parameters
        ----------
        video, outputs_path
            The video and its outputs file (created if missing).
        overwrite
            Recompute the model's probabilities even if the outputs file holds them.
        n_frames
            The video's frame count, if known: stored features of another length are redone.
        recompute_features
            Extract features again even if the outputs file holds this extractor's features.
        file_attrs
            Attributes of the outputs file to set when the model's group is written.
        """
        probs, pending = self._probabilities(
            Path(video), Path(outputs_path), overwrite, n_frames, recompute_features
        )
        if pending is not None:
            write_group(outputs_path, self.group, **pending, file_attrs=file_attrs)
        return probs

    def _probabilities(
        self,
        video: Path,
        outputs_path: Path,
        overwrite: bool,
        n_frames: int | None,
        recompute_features: bool,
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        """Probabilities, and the model's group still to be written (None if stored)."""
        if (
            not (overwrite or recompute_features)
            and self._model_group_current(outputs_path, self.group)
            and self._length_ok(outputs_path, self.group, n_frames)
        ):
            probs = read_outputs(outputs_path, self.group, ["P"])["P"]
            return np.asarray(probs, np.float32), None
        feature_group = self.extract(video, outputs_path, n_frames, recompute_features)
        if self._sequence is None:
            data = read_outputs(outputs_path, feature_group, ["P", "class_names"])
            self._check_names(data["class_names"], outputs_path)
            self.group = feature_group
            return np.asarray(data["P"], np.float32), None
        from ethogram.infer.sequence import sequence_logits, sigmoid

        inputs = self._sequence.load_inputs(outputs_path, feature_group)
        logits = sequence_logits(self._sequence.model, inputs, self.device)
        probs = sigmoid(logits)
        pending = {
            "datasets": {
                "P": probs,
                "logits": logits,
                "thresholds": self.thresholds,
                "class_names": self.class_names,
            },
            "attrs": {
                "model_dir": str(self.model_dir),
                "feature_model_dir": str(self.feature_model_dir),
            },
        }
        return probs, pending

    @staticmethod
    def _length_ok(outputs_path: Path, group: str | None, n_frames: int | None) -> bool:
        from ethogram.io.outputs import group_info

        if n_frames is None or group is None:
            return True
        shape = group_info(outputs_path).get(group, {}).get("datasets", {}).get("P", (None,))
        return shape[0] == n_frames

    def _check_names(self, names: Sequence[str], source: Path) -> None:
        if not self.class_names:
            self.class_names = list(names)
            if self.thresholds.shape != (len(names),):
                self.thresholds = np.full(len(names), 0.5, np.float32)
            return
        if list(names) != self.class_names:
            raise ModelError(f"{source}: classes {list(names)} differ from the model's")

    def ethogram(self, probs: np.ndarray) -> np.ndarray:
        """Threshold and clean probabilities (T, K) into 0/1 values (T, K), background first."""
        from ethogram.infer.postprocess import postprocess

        return postprocess(
            probs, self.thresholds, self.class_names, self.min_bout_frames, self.exclusive
        )

    def is_done(self, target: VideoTarget) -> bool:
        """True if the video's CSVs are whole and were written by this model (see
        :mod:`ethogram.io.prediction_record`)."""
        from ethogram.io.prediction_record import why_not_current

        if self.group is None:  # a feature model: its group is the extractor's
            if self._feature_group(target.outputs_path) is None:
                return False
        reason = why_not_current(
            target.outputs_path,
            target.predictions_path,
            target.bouts_path,
            self.model_dir,
            self.group,
        )
        return reason is None

    def run(
        self, target: VideoTarget, overwrite: bool = False, recompute_features: bool = False
    ) -> VideoResult:
        """Predict one video and write its three files; raises on failure.

        ``overwrite`` recomputes the model's probabilities; ``recompute_features`` also the
        features (otherwise features of the same extractor in the outputs file are reused).
        The CSVs are written first and the outputs file last, with the record that they are
        whole (their digests): a run stopped in between leaves CSVs that disagree with the
        record, so the next run predicts the video again.
        """
        from ethogram.io.labels import write_labels
        from ethogram.io.outputs import set_file_attrs
        from ethogram.io.prediction_record import make_record
        from ethogram.io.video import video_info

        started = time.perf_counter()
        if not target.video.exists():
            raise EthogramError(f"{target.video}: video file not found")
        info = video_info(target.video)
        target.out_dir.mkdir(parents=True, exist_ok=True)
        probs, pending = self._probabilities(
            target.video, target.outputs_path, overwrite, info.n_frames, recompute_features
        )
        values = self.ethogram(probs)
        write_labels(target.predictions_path, values, self.class_names, backup=False)
        fps = float(getattr(info, "fps", 0) or 0) or DEFAULT_FPS
        write_bouts(target.bouts_path, values, self.class_names, fps)
        record = make_record(
            self.model_dir, len(values), target.predictions_path, target.bouts_path
        )
        if pending is not None:
            write_group(target.outputs_path, self.group, **pending, file_attrs=record)
        else:
            set_file_attrs(target.outputs_path, record)
        return VideoResult(
            target,
            "done",
            n_frames=len(values),
            seconds=time.perf_counter() - started,
            files=[target.predictions_path, target.bouts_path, target.outputs_path],
        )


def write_bouts(path: Path, values: np.ndarray, class_names: Sequence[str], fps: float) -> Path:
    """Write ``<stem>_bouts.csv``: one row per bout (see :func:`ethogram.summarize.bouts_table`)."""
    from ethogram.io.atomic import atomic_path
    from ethogram.summarize import bouts_table

    table = bouts_table(values, list(class_names), fps)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path
