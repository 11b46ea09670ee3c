"""Feature extraction: run a trained feature extractor over whole videos into ``<stem>_outputs.h5``.

Each video is decoded once, sequentially, in chunks; flow is computed incrementally across chunk
borders and the two-stream network runs on batches of frames, with exactly the preprocessing used
in training (:mod:`ethogram.data.preprocess`). Results go to DeepEthogram's layout: a group named
after the spatial network (e.g. ``resnet18``) holding ``P`` (T, K) probabilities, ``logits``
(T, K), ``spatial_features`` (T, F), ``flow_features`` (T, F), ``thresholds`` (K,) and
``class_names`` (K,), with attributes ``model_dir``, ``model_id``, ``n_frames`` and more.

The file is written under a temporary name and renamed into place; other groups of an existing
file are copied over. An interrupted extraction leaves the previous file as it was. The model
comes from :func:`~ethogram.infer.feature_model.load_feature_model` (importable from here too).

>>> model = load_feature_model("mice/models/250101_120000_features_resnet18")  # doctest: +SKIP
>>> extract_video("mice/DATA/s1/s1.mp4", model, "mice/DATA/s1/s1_outputs.h5")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.data.prefetch import prefetch
from ethogram.errors import ModelError, ProjectError
from ethogram.infer.feature_model import FeatureModel, load_feature_model
from ethogram.io.atomic import atomic_path

__all__ = [
    "FeatureModel",
    "extract_project",
    "extract_video",
    "is_extracted",
    "load_feature_model",
]

logger = logging.getLogger(__name__)

BATCH_SIZE = 64
CHUNK_SIZE = 128
REUSE_BYTES = 512 * 2**20
"""Videos whose resized frames and flow fit in this many bytes are decoded once, not twice."""
FEATURE_DATASETS = ("P", "logits", "spatial_features", "flow_features")


# ---- one video ----------------------------------------------------------------------------------
def _copy_other_groups(old_path: Path, new_file, group: str) -> None:
    from ethogram.io.outputs import _open

    with _open(old_path) as old:
        for key, value in old.attrs.items():
            new_file.attrs[key] = value
        for name in old.keys():
            if name != group:
                old.copy(old[name], new_file, name=name)


def _run_batch(feature_model: FeatureModel, rgb: np.ndarray, flow: np.ndarray, statistics=None):
    """``(P, logits, spatial_features, flow_features)`` of a batch of stacks, as numpy arrays.

    With the ONNX runtime, ``statistics`` are the batch-norm statistics of the video (default:
    the torch model's current ones).
    """
    import torch

    from ethogram.data.preprocess import flow_to_tensor, rgb_to_tensor
    from ethogram.nn.fusion import predict_two_stream
    from ethogram.nn.registry import is_3d

    feat = feature_model.settings.features
    if feature_model.onnx is not None:
        from ethogram.infer.onnx_runtime import torch_statistics

        if statistics is None:
            names = feature_model.onnx.statistics_inputs
            statistics = torch_statistics(feature_model.model, names)
        logits, spatial, motion = feature_model.onnx.run(
            rgb_to_tensor(rgb, is_3d(feat.arch)).numpy(), flow_to_tensor(flow).numpy(), statistics
        )
        return 1.0 / (1.0 + np.exp(-logits)), logits, spatial, motion
    device = feature_model.device
    inputs = (rgb_to_tensor(rgb, is_3d(feat.arch), device), flow_to_tensor(flow, device))
    with torch.inference_mode():
        out = predict_two_stream(feature_model.model, *inputs, mirror=feat.mirror_average)
    logits = out.logits.float()
    return (
        torch.sigmoid(logits).cpu().numpy(),
        logits.cpu().numpy(),
        out.spatial_features.float().cpu().numpy(),
        out.flow_features.float().cpu().numpy(),
    )


def _prepared(reader, pre, n_frames: int, feat) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Decode and preprocess a video chunk by chunk: ``(rgb, flow)`` per chunk, then the rest.

    Decoding runs in a thread of its own (:func:`~ethogram.data.prefetch.prefetch`), a chunk or
    two ahead of the preprocessing (tracking, cropping, flow): on two cores the two overlap.
    """
    for _, frames in prefetch(reader.iter_chunks(CHUNK_SIZE, 0, n_frames)):
        yield pre.push(frames)
    yield np.zeros((0, feat.input_size, feat.input_size, 3), np.uint8), pre.finish()


def _prepared_bytes(video_path: Path, feat) -> int:
    """Bytes of the resized frames and flow of a whole video (what :func:`_prepared` yields)."""
    from ethogram.io.video import video_info

    per_frame = feat.input_size**2 * 3 + 2 * feat.motion_size**2 * 2  # uint8 RGB, float16 flow
    return video_info(video_path).n_frames * per_frame


def _replay(prepared: list) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The chunks of ``prepared``, each dropped from the list once handed out."""
    prepared.reverse()
    while prepared:
        yield prepared.pop()


def _statistics_batches(
    video_path: Path,
    feature_model: FeatureModel,
    progress: bool = False,
    background: np.ndarray | None = None,
    prepared: list | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Input batches for :func:`~ethogram.nn.video_norm.video_statistics`: a first pass.

    Frames evenly spread over the video (:func:`~ethogram.nn.video_norm.statistics_frame_limit`
    of them), in shuffled batches; the input of a stream that is not adapted is None. With a
    list ``prepared``, the pass also keeps in it every ``(rgb, flow)`` chunk of the video as
    :func:`_prepared` makes them (spatial frames included), for the second pass to reuse.
    """
    from ethogram.data.preprocess import FramePreprocessor, flow_to_tensor, rgb_to_tensor
    from ethogram.data.stacks import StackAssembler
    from ethogram.io.video import VideoReader
    from ethogram.nn.registry import is_3d
    from ethogram.nn.video_norm import (
        STATISTICS_BATCH,
        statistics_frame_limit,
        statistics_frames,
    )
    from ethogram.progress import progress_bar

    settings = feature_model.settings
    feat, mode = settings.features, settings.features.video_norm
    if mode == "none":
        return iter(())
    want_rgb = mode == "all"
    rgb_kept: dict[int, np.ndarray] = {}
    flow_kept: dict[int, np.ndarray] = {}
    with VideoReader(video_path, cache_size=1) as reader:
        n_frames = len(reader)
        order = statistics_frames(n_frames, statistics_frame_limit(feat))
        wanted = np.zeros(n_frames, bool)
        wanted[order] = True
        pre = FramePreprocessor(settings, source=str(video_path), background=background,
                                spatial=want_rgb or prepared is not None)  # fmt: skip
        stacks = StackAssembler(feat.n_rgb, feat.n_flows)

        def keep() -> None:
            while (ready := stacks.take(BATCH_SIZE)) is not None:
                first, rgb, flow = ready
                for i in np.flatnonzero(wanted[first : first + len(flow)]):
                    flow_kept[first + i] = flow[i].copy()
                    if want_rgb:
                        rgb_kept[first + i] = rgb[i].copy()

        with progress_bar(n_frames, f"statistics {video_path.name}", progress) as advance:
            for rgb, flow in prefetch(_prepared(reader, pre, n_frames, feat)):
                if prepared is not None:
                    prepared.append((rgb, flow))
                stacks.add(rgb, flow)
                keep()
                advance(len(rgb))
            stacks.finish()
            keep()
    device, three_d = feature_model.device, is_3d(feat.arch)

    def batches() -> Iterator[tuple[Any, Any]]:
        for start in range(0, len(order), STATISTICS_BATCH):
            frames = order[start : start + STATISTICS_BATCH]
            flow = flow_to_tensor(np.stack([flow_kept[t] for t in frames]), device)
            rgb = None
            if want_rgb:
                rgb = rgb_to_tensor(np.stack([rgb_kept[t] for t in frames]), three_d, device)
            yield rgb, flow

    return batches()


def extract_video(
    video_path: str | Path,
    feature_model: FeatureModel,
    out_path: str | Path,
    group: str | None = None,
    progress: bool = True,
) -> Path:
    """Extract features, logits and probabilities of every frame of a video.

    Parameters
    ----------
    video_path
        The video file.
    feature_model
        From :func:`load_feature_model`.
    out_path
        ``<stem>_outputs.h5``; other groups already in it are kept.
    group
        Group name (default: ``feature_model.name``, the spatial network, as DeepEthogram).
    progress
        Show a progress bar on stderr.

    Returns
    -------
    pathlib.Path
        ``out_path``.
    """
    import h5py

    from ethogram.data.preprocess import FramePreprocessor, background_image
    from ethogram.data.stacks import StackAssembler
    from ethogram.io.video import VideoReader
    from ethogram.nn.video_norm import video_statistics
    from ethogram.progress import progress_bar

    video_path, out_path = Path(video_path), Path(out_path)
    group = group or feature_model.name
    settings = feature_model.settings
    feat = settings.features
    k = len(feature_model.class_names)
    spatial_dim = feature_model.model.spatial.num_features
    flow_dim = feature_model.model.motion.num_features
    background = background_image(video_path, settings)
    # the statistics pass decodes the whole video and computes its flow: short enough videos
    # keep what it prepared, and the second pass does not decode and compute them again
    prepared = [] if _prepared_bytes(video_path, feat) <= REUSE_BYTES else None
    statistics = _statistics_batches(video_path, feature_model, progress, background, prepared)
    if not prepared:  # no statistics pass (features.video_norm=none), or too long a video
        prepared = None
    with (
        VideoReader(video_path, cache_size=1) as reader,
        video_statistics(feature_model.model, feat.video_norm, statistics),
    ):
        n_frames = len(reader)
        pre = FramePreprocessor(settings, source=str(video_path), background=background)
        stacks = StackAssembler(feat.n_rgb, feat.n_flows)
        video_stats = None
        if feature_model.onnx is not None:  # the video's statistics, measured above
            from ethogram.infer.onnx_runtime import torch_statistics

            names = feature_model.onnx.statistics_inputs
            video_stats = torch_statistics(feature_model.model, names)
        with atomic_path(out_path) as tmp, h5py.File(tmp, "w") as f:
            if out_path.exists():
                _copy_other_groups(out_path, f, group)
            g = f.create_group(group)
            chunks = min(n_frames, 1024)
            data = {
                name: g.create_dataset(name, (n_frames, width), np.float32, chunks=(chunks, width))
                for name, width in (
                    ("P", k),
                    ("logits", k),
                    ("spatial_features", spatial_dim),
                    ("flow_features", flow_dim),
                )
            }
            written = 0

            def drain() -> None:
                nonlocal written
                while (ready := stacks.take(BATCH_SIZE)) is not None:
                    first, rgb, flow = ready
                    outputs = _run_batch(feature_model, rgb, flow, video_stats)
                    for name, values in zip(FEATURE_DATASETS, outputs, strict=True):
                        data[name][first : first + len(values)] = values
                    written = first + len(rgb)
                    advance(len(rgb))

            with progress_bar(n_frames, f"features {video_path.name}", progress) as advance:
                if prepared is None:
                    chunks = prefetch(_prepared(reader, pre, n_frames, feat))
                else:
                    chunks = _replay(prepared)
                for rgb, flow in chunks:
                    stacks.add(rgb, flow)
                    drain()
                stacks.finish()
                drain()
            if written != n_frames:
                raise ModelError(f"{video_path}: extracted {written} of {n_frames} frames")
            g.create_dataset("thresholds", data=feature_model.thresholds.astype(np.float32))
            g.create_dataset(
                "class_names",
                data=np.array(feature_model.class_names, dtype=object),
                dtype=h5py.string_dtype(),
            )
            attrs = {
                "model_dir": str(feature_model.model_dir.resolve()),
                "model_id": feature_model.model_id,
                "stage": "features",
                "arch": feat.arch,
                "flow_arch": feat.flow_arch,
                "n_frames": n_frames,
                "video": video_path.name,
                "settings": json.dumps(settings.model_dump(mode="json")),
            }
            for key, value in attrs.items():
                g.attrs[key] = value
    return out_path


def is_extracted(out_path: str | Path, feature_model: FeatureModel, group: str | None = None):
    """True if ``out_path`` holds this model's complete features (same model folder)."""
    from ethogram.io.outputs import OutputsError, group_info

    group = group or feature_model.name
    try:
        info = group_info(out_path).get(group)
    except OutputsError:
        return False
    if info is None:
        return False
    names = set(FEATURE_DATASETS) | {"thresholds", "class_names"}
    if not names <= set(info["datasets"]):
        return False
    attrs = info["attrs"]
    if str(attrs.get("model_id") or Path(str(attrs.get("model_dir", ""))).name) != (
        feature_model.model_id
    ):
        return False
    n_frames = attrs.get("n_frames")
    return n_frames is None or info["datasets"]["P"][0] == int(n_frames)


# ---- a project ----------------------------------------------------------------------------------
def _select_videos(project, videos: Sequence[str | Path] | None) -> list:
    if not videos:
        return list(project.videos)
    records = {r.stem: r for r in project.videos}
    chosen = []
    for video in videos:
        stem = Path(str(video)).stem if str(video) not in records else str(video)
        if stem not in records:
            raise ProjectError(
                f"{project.root}: no video named {str(video)!r}; the project has {sorted(records)}"
            )
        chosen.append(records[stem])
    return chosen


def extract_project(
    project,
    model_dir: str | Path | None = None,
    videos: Sequence[str | Path] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> list[Path]:
    """Extract features for a project's videos into ``DATA/<stem>/<stem>_outputs.h5``.

    Parameters
    ----------
    project
        An open :class:`ethogram.project.Project`.
    model_dir
        The feature model folder (default: the project's newest finished one).
    videos
        Video names (stems) or files of the project (default: all its videos).
    overwrite
        Extract again videos that already hold this model's complete features.
    progress
        Progress bars. Videos skipped are logged (``ethogram.infer.extract``).

    Returns
    -------
    list of pathlib.Path
        The outputs files of the selected videos (extracted now or already complete).
    """
    if model_dir is None:
        from ethogram.models.folder import latest_model_dir

        model_dir = latest_model_dir(project, "features")
    feature_model = load_feature_model(model_dir)
    paths = []
    for record in _select_videos(project, videos):
        out = record.outputs_path
        if not overwrite and is_extracted(out, feature_model):
            logger.info(f"{record.stem}: features already extracted, skipped")
        else:
            extract_video(record.video_path, feature_model, out, progress=progress)
        paths.append(out)
    return paths
