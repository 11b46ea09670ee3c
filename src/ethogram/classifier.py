"""A trained model as a Python object: three lines in a notebook.

>>> from ethogram import Classifier  # doctest: +SKIP
>>> clf = Classifier.from_project("mice_project")  # doctest: +SKIP
>>> ethogram = clf.predict("new_session.mp4")  # doctest: +SKIP

``predict`` returns a pandas DataFrame with one row per frame and one 0/1 column per behavior
(``background`` first, as in DeepEthogram's CSVs); ``predict_proba`` the probabilities before
thresholds and minimum bout lengths. Nothing is written beside the video unless ``outputs`` names
an outputs file to keep the features in (then a second call on the same video is fast).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


class Classifier:
    """A trained model (sequence model with its feature extractor, or a feature extractor alone).

    Use :meth:`from_project` or :meth:`from_dir`.

    Attributes
    ----------
    behaviors
        Column names of the predictions, ``background`` first.
    thresholds
        Per-class probability thresholds.
    min_bout_frames
        Minimum bout length in frames, per behavior.
    model_dir
        The model folder.
    """

    def __init__(self, predictor) -> None:
        self._predictor = predictor
        self._cache: tuple[tuple, np.ndarray] | None = None

    @classmethod
    def from_project(cls, path: str | Path, device: str | None = None) -> Classifier:
        """The project's newest sequence model (else its newest feature extractor).

        Minimum bout lengths not recorded by the model are estimated from the project's labels.
        """
        from ethogram.infer.predictor import Predictor, project_labels, resolve_model_dir
        from ethogram.project import Project

        project = Project.open(path)
        model_dir = resolve_model_dir(project)
        return cls(Predictor(model_dir, device=device, label_arrays=project_labels(project)))

    @classmethod
    def from_dir(cls, model_dir: str | Path, device: str | None = None) -> Classifier:
        """A model folder (``models/<date>_<time>_sequence_tgmj`` or a feature model)."""
        from ethogram.infer.predictor import Predictor, resolve_model_dir

        return cls(Predictor(resolve_model_dir(None, model_dir), device=device))

    @property
    def behaviors(self) -> list[str]:
        """Behavior names, ``background`` first."""
        return self._predictor.behaviors

    @property
    def thresholds(self) -> dict[str, float]:
        """Per-class probability threshold."""
        return {
            n: float(t) for n, t in zip(self.behaviors, self._predictor.thresholds, strict=False)
        }

    @property
    def min_bout_frames(self) -> dict[str, int]:
        """Minimum bout length in frames, per behavior."""
        return dict(self._predictor.min_bout_frames)

    @property
    def model_dir(self) -> Path:
        """The model folder."""
        return self._predictor.model_dir

    def _probabilities(self, video: str | Path, outputs: str | Path | None) -> np.ndarray:
        from ethogram.errors import VideoError

        video = Path(video)
        if not video.exists():
            raise VideoError(f"{video}: video file not found")
        key = (str(video.resolve()), video.stat().st_mtime_ns, str(outputs))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if outputs is not None:
            probs = self._predictor.probabilities(video, Path(outputs))
        else:
            with tempfile.TemporaryDirectory(prefix="ethogram_") as tmp:
                probs = self._predictor.probabilities(video, Path(tmp) / f"{video.stem}_outputs.h5")
        self._cache = (key, probs)
        return probs

    def predict_proba(self, video: str | Path, outputs: str | Path | None = None):
        """Per-frame probabilities of each behavior.

        Parameters
        ----------
        video
            A video file (or a folder of images).
        outputs
            An outputs file (``<stem>_outputs.h5``) to read features from and store them in.

        Returns
        -------
        pandas.DataFrame
            float32, one row per frame (index = frame number), one column per behavior.
        """
        import pandas as pd

        probs = self._probabilities(video, outputs)
        frame = pd.DataFrame(probs, columns=self.behaviors)
        frame.index.name = "frame"
        return frame

    def predict(self, video: str | Path, outputs: str | Path | None = None):
        """Per-frame behaviors, thresholded and cleaned (minimum bout lengths).

        Returns
        -------
        pandas.DataFrame
            int8 0/1, one row per frame (index = frame number), one column per behavior,
            ``background`` first and 1 exactly when no other behavior is.
        """
        import pandas as pd

        values = self._predictor.ethogram(self._probabilities(video, outputs))
        frame = pd.DataFrame(values, columns=self.behaviors)
        frame.index.name = "frame"
        return frame

    def __repr__(self) -> str:
        return f"Classifier({str(self.model_dir)!r}, behaviors={self.behaviors})"


__all__ = ["Classifier"]
