"""The whole chain on videos: flow, features, sequence model, post-processing, files.

For each video, a :class:`~ethogram.infer.predictor.Predictor` writes three files beside each
other::

    <stem>_outputs.h5       features (feature extractor's group) and probabilities (model's group)
    <stem>_predictions.csv  DeepEthogram's label format: index column, background first, 0/1
    <stem>_bouts.csv        behavior, start/end frame, duration in frames and seconds

:func:`predict` runs it over many videos (a project's, or new files and folders) with one progress
bar, skips videos already predicted by the same model, and keeps going when a video fails: each
failure is reported with its reason in the returned results.

Examples
--------
>>> results = predict("mice_project")  # doctest: +SKIP
>>> results = predict("mice_project", ["new_videos/"], out="predictions/")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ethogram.errors import EthogramError
from ethogram.infer.predictor import (
    Predictor,
    VideoResult,
    project_labels,
    resolve_model_dir,
    write_bouts,
)
from ethogram.infer.targets import VIDEO_SUFFIXES, VideoTarget, collect_targets


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, EthogramError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def predict(
    project=None,
    paths: Sequence[str | Path] | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    model: str | Path | None = None,
    progress: bool = True,
    device: str | None = None,
    recompute_features: bool = False,
    targets: Sequence[VideoTarget] | None = None,
    on_result: Callable[[VideoResult], None] | None = None,
    runtime: str | None = None,
) -> list[VideoResult]:
    """Predict many videos with one model; failures are recorded, not raised.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project`, its folder, or None (then ``model`` is required).
    paths
        Video files, folders of videos, or names of project videos (default: all project videos).
    out
        Folder for the result files (default: beside each video; a project video's folder).
    overwrite
        Predict again videos already predicted by this model (features of the same extractor
        stored in their outputs files are reused).
    model
        Model folder (default: the project's newest sequence model, else feature model).
    progress
        Show one progress bar over all videos.
    device
        ``auto``, ``cpu`` or ``cuda`` (default: the model's setting).
    recompute_features
        Extract features again even where the outputs files hold them.
    targets
        The videos and their output folders, already collected (:func:`collect_targets`);
        then ``paths`` and ``out`` are not used.
    on_result
        Called with each video's result as soon as it is known (e.g. to record progress).
    runtime
        ``torch`` or ``onnx``: what runs the feature extractor (default: the project's
        ``runtime`` setting, else the model's).

    Returns
    -------
    list of VideoResult
        One per video, in order, with status ``done``, ``skipped`` or ``failed`` (and reason).
    """
    from ethogram.project import Project

    if project is not None and not isinstance(project, Project):
        project = Project.open(project)
    model_dir = resolve_model_dir(project, model)
    if targets is None:
        targets = collect_targets(project, paths, out)
    if runtime is None and project is not None:
        runtime = project.settings().runtime
    predictor = Predictor(
        model_dir, device=device, label_arrays=project_labels(project), runtime=runtime
    )
    results: list[VideoResult] = []
    from ethogram.progress import progress_bar

    with progress_bar(len(targets), "predict", progress) as bar:
        for target in targets:
            bar.status(target.stem)
            started = time.perf_counter()
            try:
                if not overwrite and predictor.is_done(target):
                    results.append(VideoResult(target, "skipped", "already predicted"))
                else:
                    results.append(predictor.run(target, overwrite, recompute_features))
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one bad video must not stop the others
                elapsed = time.perf_counter() - started
                results.append(VideoResult(target, "failed", _reason(exc), seconds=elapsed))
            if on_result is not None:
                on_result(results[-1])
            bar.advance()
    return results


def summary_line(results: Sequence[VideoResult]) -> str:
    """One line: how many videos were predicted, skipped and failed."""
    done = sum(r.status == "done" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    failed = [r for r in results if r.status == "failed"]
    frames = sum(r.n_frames for r in results if r.status == "done")
    line = (
        f"{done} predicted ({frames} frames), {skipped} skipped (already done), "
        f"{len(failed)} failed"
    )
    if failed:
        line += ": " + ", ".join(r.target.video.name for r in failed)
    return line


__all__ = [
    "VIDEO_SUFFIXES",
    "Predictor",
    "VideoResult",
    "VideoTarget",
    "collect_targets",
    "predict",
    "project_labels",
    "resolve_model_dir",
    "summary_line",
    "write_bouts",
]
