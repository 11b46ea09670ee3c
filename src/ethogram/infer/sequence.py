"""Sequence model inference: load a trained TGM/TGMJ, run it over whole videos, store outputs.

The training side is :mod:`ethogram.train.sequence`; the network is built by
:func:`ethogram.models.build.build_sequence_model`. A sequence model folder holds ``config.yaml``
(settings), ``best.pt`` (weights, with the class names, input size and thresholds in its
``extra``) and ``metrics.json`` (thresholds, minimum bout lengths, the feature model it reads).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ethogram.config import Settings, read_settings
from ethogram.data.sequence import SequenceInputs, load_sequence_inputs
from ethogram.errors import ModelError
from ethogram.io.outputs import find_group, list_groups, read_outputs, write_group
from ethogram.models.build import SequenceModel, build_sequence_model
from ethogram.models.checkpoint import load_training_checkpoint
from ethogram.models.folder import BEST_NAME, CONFIG_NAME, metrics_or_empty, read_metrics


@dataclass
class LoadedSequenceModel:
    """A trained sequence model and what it needs at inference."""

    model: SequenceModel
    model_dir: Path
    settings: Settings
    class_names: list[str]
    thresholds: np.ndarray
    feature_model_dir: Path | None
    min_bout_frames: dict[str, int]

    @property
    def arch(self) -> str:
        """``tgm`` or ``tgmj``: also the name of its group in the outputs files."""
        return self.settings.sequence.arch

    def load_inputs(self, outputs_path: str | Path, group: str, **kwargs) -> SequenceInputs:
        """Read a video's inputs for this model (as its ``sequence.normalize`` says).

        ``kwargs`` go to :func:`ethogram.data.sequence.load_sequence_inputs` (``labels``,
        ``stem``).
        """
        return load_inputs_for(self.settings, outputs_path, group, **kwargs)


def load_inputs_for(
    settings: Settings, outputs_path: str | Path, group: str, **kwargs
) -> SequenceInputs:
    """Read a video's sequence-model inputs as ``settings.sequence.normalize`` asks.

    ``kwargs`` go to :func:`ethogram.data.sequence.load_sequence_inputs` (``labels``, ``stem``).
    """
    return load_sequence_inputs(
        outputs_path, group, normalize=settings.sequence.normalize, **kwargs
    )


def load_sequence_model(model_dir: str | Path, device: str | torch.device = "cpu"):
    """Load a trained sequence model from its directory (``config.yaml`` + ``best.pt``).

    Returns
    -------
    LoadedSequenceModel
    """
    model_dir = Path(model_dir)
    settings = read_settings(model_dir / CONFIG_NAME)
    state = load_training_checkpoint(model_dir / BEST_NAME)
    extra = state.get("extra") or {}
    for key in ("in_features", "class_names"):
        if key not in extra:
            raise ModelError(f"{model_dir / BEST_NAME}: not a sequence model (no {key!r})")
    names = list(extra["class_names"])
    model = build_sequence_model(settings, int(extra["in_features"]), len(names))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise ModelError(f"{model_dir / BEST_NAME}: does not fit its config.yaml ({exc})") from exc
    model.to(device).eval()
    metrics = metrics_or_empty(model_dir)
    thresholds = np.asarray(metrics.get("thresholds") or extra.get("thresholds"), np.float32)
    if thresholds.shape != (len(names),):
        thresholds = np.full(len(names), 0.5, np.float32)
    feature_dir = extra.get("feature_model_dir")
    return LoadedSequenceModel(
        model=model,
        model_dir=model_dir,
        settings=settings,
        class_names=names,
        thresholds=thresholds,
        feature_model_dir=Path(feature_dir) if feature_dir else None,
        min_bout_frames=dict(metrics.get("min_bout_frames") or {}),
    )


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, float32, without overflow for large logits."""
    from scipy.special import expit

    return expit(np.asarray(logits, dtype=np.float32)).astype(np.float32)


@torch.no_grad()
def sequence_logits(
    model: nn.Module, inputs: SequenceInputs, device: str | torch.device = "cpu", chunk: int = 8192
) -> np.ndarray:
    """Run the sequence model over a whole video; returns float32 logits (T, K).

    Long videos are processed in chunks of ``chunk`` frames with enough context on both sides
    (the model's receptive field) that the result equals one pass over the whole video.
    """
    from ethogram.nn.tgm import receptive_field

    model.eval()
    net = model.net if isinstance(model, SequenceModel) else model
    margin = receptive_field(net)
    n = inputs.n_frames
    out = []
    for start in range(0, max(n, 1), chunk):
        lo, hi = max(start - margin, 0), min(start + chunk + margin, n)
        feats = torch.from_numpy(inputs.features[lo:hi]).to(device)[None]
        logits = None
        if inputs.logits is not None and getattr(net, "uses_logits", False):
            logits = torch.from_numpy(inputs.logits[lo:hi]).to(device)[None]
        y = model(feats, logits)[0].float().cpu().numpy()
        out.append(y[start - lo : start - lo + min(chunk, n - start)])
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def feature_group(outputs_path: Path, feature_model_dir: Path, arch: str | None = None):
    """The group of ``outputs_path`` written by the feature model in ``feature_model_dir``."""
    group = find_group(outputs_path, feature_model_dir, required=("spatial_features",))
    if group is None and arch and arch in list_groups(outputs_path):
        info = read_outputs(outputs_path, arch, datasets=[])
        stored = str(info["attrs"].get("model_dir") or "")
        if not stored:  # written by DeepEthogram, which records no model folder
            group = arch
    return group


def trained_feature_dir(model_dir: Path) -> str:
    """The feature model folder a sequence model was trained on (from its metrics.json)."""
    return str(read_metrics(model_dir).get("feature_model_dir") or "")


def write_sequence_outputs(
    project,
    model_dir: Path,
    model: nn.Module | None = None,
    settings: Settings | None = None,
    thresholds: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
    stems: list[str] | None = None,
) -> list[Path]:
    """Write the sequence model's ``P``, ``logits``, ``thresholds`` and ``class_names`` into the
    outputs file of every project video (or ``stems``) that has the feature model's features.

    Returns
    -------
    list of pathlib.Path
        The outputs files written.
    """
    from ethogram.progress import progress_iter

    model_dir = Path(model_dir)
    if model is None or settings is None or thresholds is None:
        loaded = load_sequence_model(model_dir, device)
        model, settings, thresholds = loaded.model, loaded.settings, loaded.thresholds
    feature_dir = Path(trained_feature_dir(model_dir))
    names = project.behaviors
    arch = settings.sequence.arch
    records = [r for r in project.videos if stems is None or r.stem in stems]
    written = []
    for record in progress_iter(records, len(records), "sequence outputs", progress):
        group = feature_group(record.outputs_path, feature_dir, settings.features.arch)
        if group is None:
            continue
        inputs = load_inputs_for(settings, record.outputs_path, group, stem=record.stem)
        logits = sequence_logits(model, inputs, device)
        probs = sigmoid(logits)
        write_group(
            record.outputs_path,
            arch,
            {
                "P": probs,
                "logits": logits,
                "thresholds": np.asarray(thresholds, np.float32),
                "class_names": names,
            },
            attrs={"model_dir": str(model_dir), "feature_model_dir": str(feature_dir)},
        )
        written.append(record.outputs_path)
    return written


__all__ = [
    "LoadedSequenceModel",
    "feature_group",
    "load_sequence_model",
    "sequence_logits",
    "sigmoid",
    "trained_feature_dir",
    "write_sequence_outputs",
]
