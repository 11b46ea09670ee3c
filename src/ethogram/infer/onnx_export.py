"""Export a trained feature extractor to ONNX, for :mod:`ethogram.infer.onnx_runtime`.

``ethogram export-model`` writes two files into the feature model's folder:

``features.onnx``
    The two-stream network as prediction runs it: ``(rgb, flow)`` inputs, already normalized as
    :func:`~ethogram.data.preprocess.rgb_to_tensor` and :func:`~ethogram.data.preprocess.
    flow_to_tensor` make them, any batch size; outputs ``logits``, ``spatial_features`` and
    ``flow_features``, averaged with the mirror images when the model's
    ``features.mirror_average`` is on. The batch-norm statistics that ``features.video_norm``
    measures on each video are graph inputs (named like the torch buffers, e.g.
    ``motion.bn1.running_mean``), so one session serves every video.
``features.onnx.json``
    The record of the export: the checkpoint (``best.pt``) and ``config.yaml`` it came from
    (their SHA-256), the input shapes, the statistics inputs, the torch and opset versions. An
    export whose checkpoint or settings changed since is stale: :func:`export_is_current` tells,
    and the runtime exports again rather than run stale weights.

The sequence model is not exported: it costs about 0.5 % of the time of a prediction (see
docs/dev/cpu_runtime.md).

>>> export_feature_model("mice/models/250101_120000_features_efficientnet_lite0")  # doctest: +SKIP
PosixPath('mice/models/250101_120000_features_efficientnet_lite0/features.onnx')
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from ethogram.errors import EthogramError, ModelError

__all__ = [
    "EXPORT_NAME",
    "INSTALL_HINT",
    "OPSET",
    "RECORD_NAME",
    "export_feature_model",
    "export_is_current",
    "read_export_record",
    "require_onnx",
    "stale_reason",
]

EXPORT_NAME = "features.onnx"
RECORD_NAME = "features.onnx.json"
OPSET = 17
RECORD_VERSION = 1
INSTALL_HINT = "pip install 'ethogram[onnx]'"
OUTPUT_NAMES = ("logits", "spatial_features", "flow_features")


def require_onnx(module: str = "onnxruntime") -> Any:
    """Import ``module`` (``onnxruntime`` or ``onnx``), or raise an error with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise EthogramError(
            f"the ONNX runtime needs the package {module}, which is not installed: {INSTALL_HINT}"
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sources(model_dir: Path) -> dict[str, str]:
    """SHA-256 of the files an export is made from: weights and settings."""
    from ethogram.models.folder import BEST_NAME, CONFIG_NAME

    return {name: _sha256(model_dir / name) for name in (BEST_NAME, CONFIG_NAME)}


def _stamps(model_dir: Path) -> dict[str, list[int]]:
    """Size and modification time (ns) of the export's files and of the files it came from."""
    from ethogram.models.folder import BEST_NAME, CONFIG_NAME

    stamps = {}
    for name in (BEST_NAME, CONFIG_NAME, EXPORT_NAME):
        stat = (model_dir / name).stat()
        stamps[name] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def read_export_record(model_dir: str | Path) -> dict[str, Any] | None:
    """The record of a model folder's ONNX export; None if there is none or it is unreadable."""
    path = Path(model_dir) / RECORD_NAME
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def stale_reason(model_dir: str | Path) -> str | None:
    """Why the ONNX export of ``model_dir`` cannot be used (None: it is current).

    Missing files, another record version, or a checkpoint or config.yaml that changed since.
    Files whose sizes and modification times are those recorded are taken as unchanged; others
    are compared by their SHA-256.
    """
    model_dir = Path(model_dir)
    if not (model_dir / EXPORT_NAME).is_file():
        return f"{model_dir / EXPORT_NAME} does not exist"
    record = read_export_record(model_dir)
    if record is None:
        return f"{model_dir / RECORD_NAME} is missing or unreadable"
    if record.get("version") != RECORD_VERSION:
        return f"{model_dir / RECORD_NAME}: record version {record.get('version')}"
    if record.get("stamps") == _stamps(model_dir):  # no file touched since: skip the digests
        return None
    if record.get("onnx_sha256") != _sha256(model_dir / EXPORT_NAME):
        return f"{model_dir / EXPORT_NAME} is not the file its record describes"
    for name, digest in _sources(model_dir).items():
        if record.get("sources", {}).get(name) != digest:
            return f"{model_dir / name} changed since the export"
    return None


def export_is_current(model_dir: str | Path) -> bool:
    """True if ``model_dir`` holds an ONNX export of its current checkpoint and settings."""
    return stale_reason(model_dir) is None


def _export_module(model: Any, mirror: bool | str) -> Any:
    """A module ``(rgb, flow) -> (logits, spatial_features, flow_features)`` around ``model``."""
    from torch import nn

    from ethogram.nn.fusion import predict_two_stream

    class TwoStreamForExport(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, rgb, flow):
            out = predict_two_stream(self.model, rgb, flow, mirror=mirror)
            return out.logits, out.spatial_features, out.flow_features

    return TwoStreamForExport().eval()


def _statistics_buffers(model: Any, mode: str) -> list[str]:
    """Names (in ``model``) of the batch-norm buffers ``features.video_norm`` changes per video."""
    from ethogram.nn.video_norm import adapted_streams

    streams = {id(s) for s in adapted_streams(model, mode)}
    names = []
    for stream_name, stream in model.named_children():
        if id(stream) not in streams:
            continue
        for name, module in stream.named_modules():
            stats = getattr(module, "running_mean", None), getattr(module, "running_var", None)
            if getattr(module, "track_running_stats", False) and None not in stats:
                prefix = f"{stream_name}.{name}" if name else stream_name
                names += [f"{prefix}.running_mean", f"{prefix}.running_var"]
    return names


def _statistics_as_inputs(proto: Any, buffers: list[str], prefix: str) -> None:
    """Turn the initializers of ``buffers`` into graph inputs named like the buffers."""
    from onnx import TensorProto, helper

    wanted = {f"{prefix}{name}": name for name in buffers}
    found = {}
    for init in list(proto.graph.initializer):
        if init.name in wanted:
            found[init.name] = list(init.dims)
            proto.graph.initializer.remove(init)
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ModelError(f"ONNX export: batch-norm statistics {missing[:3]} not in the graph")
    rename = {old: wanted[old] for old in found}
    for node in proto.graph.node:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
    for old, dims in found.items():
        value = helper.make_tensor_value_info(rename[old], TensorProto.FLOAT, dims)
        proto.graph.input.append(value)


def export_feature_model(model_dir: str | Path, out: str | Path | None = None) -> Path:
    """Export a feature extractor to ``features.onnx`` with its record (see the module doc).

    Parameters
    ----------
    model_dir
        A finished feature model folder (``best.pt``, ``config.yaml``, ``metrics.json``).
    out
        Folder for the two files (default: ``model_dir``, where the runtime looks for them).

    Returns
    -------
    pathlib.Path
        The written ``features.onnx``.

    Raises
    ------
    EthogramError
        If ``onnx`` is not installed, or (ModelError) the folder is not a finished feature model.
    """
    onnx = require_onnx("onnx")
    import torch

    from ethogram.infer.feature_model import load_feature_model
    from ethogram.io.atomic import atomic_path, atomic_write_text
    from ethogram.nn.registry import is_3d

    model_dir = Path(model_dir)
    out_dir = Path(out) if out is not None else model_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = _sources(model_dir)
    feature_model = load_feature_model(model_dir, device="cpu")
    feat = feature_model.settings.features
    if is_3d(feat.arch):
        rgb_shape = [1, 3, feat.n_rgb, feat.input_size, feat.input_size]
    else:
        rgb_shape = [1, 3 * feat.n_rgb, feat.input_size, feat.input_size]
    flow_shape = [1, 2 * feat.n_flows, feat.motion_size, feat.motion_size]
    # batch-norm statistics measured per video are inputs; the others are folded by onnxruntime
    buffers = _statistics_buffers(feature_model.model, feat.video_norm)
    module = _export_module(feature_model.model, feat.mirror_average)
    example = (torch.zeros(rgb_shape), torch.zeros(flow_shape))
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in ("rgb", "flow", *OUTPUT_NAMES)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings: input sizes are fixed, batch is not
        torch.onnx.export(
            module,
            example,
            buffer,
            dynamo=False,
            input_names=["rgb", "flow"],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
            opset_version=OPSET,
            training=torch.onnx.TrainingMode.PRESERVE,  # keep batch norms apart from the convs
            do_constant_folding=True,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    _statistics_as_inputs(proto, buffers, "model.")
    version = getattr(sys.modules.get("ethogram"), "__version__", "")
    proto.doc_string = f"ethogram {version}: feature extractor {model_dir.name}"
    data = proto.SerializeToString()
    path = out_dir / EXPORT_NAME
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    record = {
        "version": RECORD_VERSION,
        "model_id": model_dir.name,
        "sources": sources,
        "onnx_sha256": hashlib.sha256(data).hexdigest(),
        "inputs": {"rgb": rgb_shape[1:], "flow": flow_shape[1:]},
        "outputs": list(OUTPUT_NAMES),
        "statistics_inputs": buffers,
        "video_norm": feat.video_norm,
        "mirror_average": feat.mirror_average,
        "class_names": feature_model.class_names,
        "opset": OPSET,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "ethogram": version,
    }
    if out_dir == model_dir:
        record["stamps"] = _stamps(model_dir)
    atomic_write_text(out_dir / RECORD_NAME, json.dumps(record, indent=2) + "\n")
    return path
