"""A trained feature extractor loaded from its model folder, ready to run on frames.

:func:`load_feature_model` checks the folder (a finished feature model: ``config.yaml``,
``best.pt``, class names and thresholds), builds the network and loads its weights;
:class:`FeatureModel` holds the result. :mod:`ethogram.infer.extract` runs it over videos.

>>> model = load_feature_model("mice/models/250101_120000_features_resnet18")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.config import Settings
from ethogram.errors import ConfigError, ModelError

__all__ = ["FeatureModel", "load_feature_model"]


@dataclass
class FeatureModel:
    """A trained feature extractor, ready for inference.

    Attributes
    ----------
    model
        The :class:`~ethogram.nn.fusion.HiddenTwoStream`, in eval mode on ``device``.
    settings
        The settings it was trained with (``config.yaml``).
    class_names
        Behaviors, background first.
    thresholds
        float32 ``(K,)``: per-class thresholds chosen on validation data.
    model_dir
        Its model folder.
    device
        Torch device.
    onnx
        With ``runtime="onnx"``: the :class:`~ethogram.infer.onnx_runtime.OnnxFeatures` session
        that computes features instead of ``model`` (which still measures the per-video
        batch-norm statistics).
    """

    model: Any
    settings: Settings
    class_names: list[str]
    thresholds: np.ndarray
    model_dir: Path
    device: Any
    onnx: Any = None

    @property
    def runtime(self) -> str:
        """``torch`` or ``onnx``: what runs the networks on frames."""
        return "torch" if self.onnx is None else "onnx"

    @property
    def name(self) -> str:
        """Group name in outputs files: the spatial network (DeepEthogram's convention)."""
        return self.settings.features.arch

    @property
    def model_id(self) -> str:
        """The model folder's name, e.g. ``250101_120000_features_resnet18``."""
        return self.model_dir.name


def load_feature_model(
    model_dir: str | Path, device: str | None = None, runtime: str = "torch"
) -> FeatureModel:
    """Load a trained feature extractor from its model folder.

    Parameters
    ----------
    model_dir
        Folder written by :func:`ethogram.train.features.train_features` (``config.yaml``,
        ``best.pt``, ``metrics.json``).
    device
        ``auto``, ``cpu`` or ``cuda`` (default: the model's setting).
    runtime
        ``torch``, or ``onnx`` to compute features with onnxruntime on the CPU
        (:mod:`ethogram.infer.onnx_runtime`; the folder's export is made if missing or stale).

    Returns
    -------
    FeatureModel

    Raises
    ------
    ModelError
        If the folder is missing, is not a finished feature model, or its weights do not fit.
    EthogramError
        With ``runtime="onnx"`` if onnxruntime is not installed.
    """
    if runtime != "torch":
        from ethogram.infer.onnx_runtime import check_runtime

        check_runtime(runtime)
    from ethogram.config import read_settings
    from ethogram.models.build import build_feature_model
    from ethogram.models.checkpoint import load_training_checkpoint, load_weights
    from ethogram.models.device import choose_device
    from ethogram.models.folder import BEST_NAME, CONFIG_NAME, metrics_or_empty

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: feature model folder not found")
    if not (model_dir / CONFIG_NAME).is_file():
        raise ModelError(f"{model_dir}: not a model folder (no config.yaml)")
    metrics = metrics_or_empty(model_dir)
    if metrics.get("stage", "features") != "features":
        raise ModelError(
            f"{model_dir}: expected a feature extractor, found a '{metrics.get('stage')}' model"
        )
    best = model_dir / BEST_NAME
    if not best.is_file():
        raise ModelError(
            f"{model_dir}: training has not finished a fused epoch (no best.pt); continue it with "
            f"`ethogram train PROJECT --stage features --resume {model_dir}`"
        )
    try:
        settings = read_settings(model_dir / CONFIG_NAME)
    except ConfigError as exc:
        raise ModelError(
            f"{model_dir}: its config.yaml does not fit this version ({exc})"
        ) from None
    extra = load_training_checkpoint(best).get("extra") or {}
    class_names = list(metrics.get("class_names") or extra.get("class_names") or [])
    if not class_names:
        raise ModelError(f"{model_dir}: no class names in metrics.json or best.pt")
    thresholds = metrics.get("thresholds") or extra.get("thresholds") or [0.5] * len(class_names)
    thresholds = np.asarray([0.5 if t is None else t for t in thresholds], np.float32)
    if len(thresholds) != len(class_names):
        raise ModelError(
            f"{model_dir}: {len(thresholds)} thresholds for {len(class_names)} classes"
        )
    torch_device = choose_device(device or settings.device)
    # the saved weights replace every ImageNet weight: do not read those first
    untrained = settings.features.model_copy(update={"pretrained": False})
    model = build_feature_model(settings.model_copy(update={"features": untrained}),
                                len(class_names))  # fmt: skip
    load_weights(model, best)  # ModelError naming the first mismatched key
    model.to(torch_device).eval()
    onnx = None
    if runtime == "onnx":
        from ethogram.infer.onnx_runtime import OnnxFeatures

        onnx = OnnxFeatures.load(model_dir)
    return FeatureModel(model, settings, class_names, thresholds, model_dir, torch_device, onnx)
