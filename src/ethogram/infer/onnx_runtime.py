"""Run an exported feature extractor (:mod:`ethogram.infer.onnx_export`) with onnxruntime.

``predict --runtime onnx`` (or the setting ``runtime: onnx``) runs the two CNNs of the feature
extractor through onnxruntime instead of torch; everything else in the chain (decoding, flow,
the per-video batch-norm statistics pass, the sequence model, post-processing) is unchanged.
The export is made when missing or stale (its checkpoint or settings changed since).

>>> runner = OnnxFeatures.load("mice/models/250101_120000_features_resnet18")  # doctest: +SKIP
>>> logits, spatial, flow = runner.run(rgb, flow, statistics)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import EthogramError, ModelError
from ethogram.infer.onnx_export import (
    EXPORT_NAME,
    OUTPUT_NAMES,
    export_feature_model,
    read_export_record,
    require_onnx,
    stale_reason,
)

__all__ = ["RUNTIMES", "OnnxFeatures", "check_runtime", "ensure_export"]

logger = logging.getLogger(__name__)

RUNTIMES = ("torch", "onnx")


def check_runtime(runtime: str) -> str:
    """``runtime`` if it is one of :data:`RUNTIMES` and usable here, else an EthogramError."""
    if runtime not in RUNTIMES:
        raise EthogramError(f"runtime: expected one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "onnx":
        require_onnx("onnxruntime")
    return runtime


def ensure_export(model_dir: str | Path) -> Path:
    """The current ONNX export of a feature model folder, exported now if missing or stale."""
    model_dir = Path(model_dir)
    reason = stale_reason(model_dir)
    if reason is not None:
        logger.info(f"exporting {model_dir.name} to ONNX ({reason})")
        export_feature_model(model_dir)
    return model_dir / EXPORT_NAME


def _threads() -> int:
    """Threads of one session: as many as torch would use (``OMP_NUM_THREADS`` or the cores)."""
    import torch

    return max(1, torch.get_num_threads())


class OnnxFeatures:
    """An onnxruntime session of a feature extractor's export.

    Parameters
    ----------
    path
        ``features.onnx``.
    record
        Its record (``features.onnx.json``).
    threads
        Intra-op threads (default: torch's thread count).
    """

    def __init__(self, path: Path, record: Mapping[str, Any], threads: int | None = None) -> None:
        ort = require_onnx("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle threads sleep instead of spinning: the decoding thread needs the cores between
        # batches (docs/dev/cpu_runtime.md has the measurements)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                os.fspath(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{path}: onnxruntime cannot load it ({exc})") from None
        self.path = path
        self.record = dict(record)
        self.statistics_inputs: list[str] = list(record.get("statistics_inputs") or [])

    @classmethod
    def load(cls, model_dir: str | Path, threads: int | None = None) -> OnnxFeatures:
        """The session of ``model_dir``'s export, exporting it first if missing or stale."""
        path = ensure_export(model_dir)
        record = read_export_record(model_dir)
        if record is None:
            raise ModelError(f"{model_dir}: the ONNX export has no record")
        return cls(path, record, threads)

    def run(
        self, rgb: np.ndarray, flow: np.ndarray, statistics: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(logits, spatial_features, flow_features)`` of a batch of normalized inputs.

        Parameters
        ----------
        rgb, flow
            float32 inputs as :func:`~ethogram.data.preprocess.rgb_to_tensor` and
            :func:`~ethogram.data.preprocess.flow_to_tensor` make them.
        statistics
            The batch-norm statistics of the record's ``statistics_inputs``, by name.
        """
        feeds = {"rgb": np.ascontiguousarray(rgb, np.float32),
                 "flow": np.ascontiguousarray(flow, np.float32)}  # fmt: skip
        for name in self.statistics_inputs:
            feeds[name] = statistics[name]
        outputs = self.session.run(list(OUTPUT_NAMES), feeds)
        return outputs[0], outputs[1], outputs[2]


def torch_statistics(model: Any, names: list[str]) -> dict[str, np.ndarray]:
    """The current values of ``model``'s buffers ``names`` (float32 arrays)."""
    buffers = dict(model.named_buffers())
    return {name: buffers[name].detach().float().cpu().numpy() for name in names}
