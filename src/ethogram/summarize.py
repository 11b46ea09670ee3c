"""Summaries of an ethogram: bouts, time budgets, latencies, and an ethogram figure.

Inputs are label or prediction arrays in DeepEthogram's layout: int8 (T, K), ``background`` first,
values 1 (present), 0 (absent), -1 (unlabeled).

Conventions
-----------
- Frame ``i`` covers the time ``[i / fps, (i + 1) / fps)`` seconds.
- A bout is a run of consecutive frames in which a behavior is 1. ``start_frame`` is its first
  frame and ``end_frame`` its **last** frame (inclusive, so a one-frame bout has
  ``start_frame == end_frame``); ``duration_frames = end_frame - start_frame + 1``.
  ``start_s = start_frame / fps`` and ``end_s = (end_frame + 1) / fps`` (the moment the bout ends),
  so ``duration_s = end_s - start_s``.
- Unlabeled frames (-1) are neither present nor absent: a run of 1s interrupted by -1 frames counts
  as two bouts, and ``fraction`` is over labeled frames only.
- ``background`` is left out unless ``include_background=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ethogram.bouts import find_bouts
from ethogram.errors import ConfigError, LabelError
from ethogram.io.atomic import atomic_path
from ethogram.io.bouts_table import COLUMNS as BOUTS_TABLE_COLUMNS
from ethogram.io.bouts_table import SECONDS_DECIMALS, bouts_dataframe
from ethogram.io.labels import read_labels, validate_values

# The bouts table is one of the label formats (io/bouts_table.py); summaries write the same one.
# Times in seconds are rounded to a microsecond: 46.266204, not 46.266203999999995.
BOUT_COLUMNS = BOUTS_TABLE_COLUMNS
SUMMARY_COLUMNS = [
    "video",
    "behavior",
    "total_frames",
    "total_s",
    "fraction",
    "n_bouts",
    "mean_bout_s",
    "median_bout_s",
    "latency_s",
    "labeled_frames",
    "n_frames",
    "fps",
]
_CSV_SUFFIXES = ("_predictions", "_labels")


def check_fps(fps: float, source: str = "fps") -> float:
    """Return ``fps`` as a float, or raise ConfigError unless it is a positive finite number."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: expected frames per second (a number), got {fps!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{source}: expected a positive frame rate, got {fps!r}")
    return value


def video_name(csv_path: str | Path) -> str:
    """The video a label or prediction CSV is for: its stem without ``_predictions``/``_labels``.

    >>> video_name("DATA/mouse1/mouse1_predictions.csv")
    'mouse1'
    """
    stem = Path(csv_path).stem
    for suffix in _CSV_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def _columns(class_names: Sequence[str], include_background: bool) -> list[tuple[int, str]]:
    start = 0 if include_background else 1
    return [(k, str(name)) for k, name in enumerate(class_names) if k >= start]


def bouts_table(
    values: np.ndarray,
    class_names: Sequence[str],
    fps: float,
    include_background: bool = False,
) -> pd.DataFrame:
    """Every bout of every behavior, in time order.

    Parameters
    ----------
    values
        int8 array (T, K) of 1/0/-1, ``background`` first.
    class_names
        The K class names.
    fps
        Frames per second of the video.
    include_background
        Also list the bouts of ``background``.

    Returns
    -------
    pandas.DataFrame
        Columns ``behavior, start_frame, end_frame, duration_frames, start_s, end_s, duration_s``;
        ``end_frame`` is the last frame of the bout (inclusive), ``end_s`` the moment it ends.
        Sorted by start frame, then behavior column order.
    """
    names = [str(c) for c in class_names]
    values = validate_values(values, names)
    fps = check_fps(fps)
    parts = []
    for k, name in _columns(names, include_background):
        bouts = find_bouts(values[:, k] == 1)
        parts.append((k, name, bouts))
    order = np.array([k for k, _, b in parts for _ in range(len(b))], dtype=np.int64)
    behavior = [name for _, name, b in parts for _ in range(len(b))]
    bouts = np.concatenate([b for _, _, b in parts]) if parts else np.zeros((0, 2), np.int64)
    start, stop = bouts[:, 0].astype(np.int64), bouts[:, 1].astype(np.int64)
    table = bouts_dataframe(behavior, start, stop, fps)
    sort_index = np.lexsort((order, start))
    return table.iloc[sort_index].reset_index(drop=True)


def summary_table(
    values: np.ndarray,
    class_names: Sequence[str],
    fps: float,
    video: str | None = None,
    include_background: bool = False,
) -> pd.DataFrame:
    """Time budget and bout statistics, one row per behavior.

    Parameters
    ----------
    values
        int8 array (T, K) of 1/0/-1, ``background`` first.
    class_names
        The K class names.
    fps
        Frames per second of the video.
    video
        Name put in the ``video`` column.
    include_background
        Also summarize ``background``.

    Returns
    -------
    pandas.DataFrame
        Columns: ``video`` (the name given, or None), ``behavior``, ``total_frames`` (frames with
        the behavior), ``total_s``, ``fraction`` (of labeled frames of that column, -1 frames
        excluded; NaN if none is labeled), ``n_bouts``, ``mean_bout_s`` and ``median_bout_s``
        (NaN without bouts), ``latency_s`` (from the start of the video to the first frame of the
        first bout; NaN without bouts), ``labeled_frames``, ``n_frames``, ``fps``.
    """
    names = [str(c) for c in class_names]
    values = validate_values(values, names)
    fps = check_fps(fps)
    n_frames = int(values.shape[0])
    rows = []
    for k, name in _columns(names, include_background):
        column = values[:, k]
        bouts = find_bouts(column == 1)
        durations_s = (bouts[:, 1] - bouts[:, 0]) / fps
        total_frames = int((column == 1).sum())
        labeled_frames = int((column != -1).sum())
        rows.append(
            {
                "video": video,
                "behavior": name,
                "total_frames": total_frames,
                "total_s": round(total_frames / fps, SECONDS_DECIMALS),
                "fraction": total_frames / labeled_frames if labeled_frames else np.nan,
                "n_bouts": int(len(bouts)),
                "mean_bout_s": float(durations_s.mean()) if len(bouts) else np.nan,
                "median_bout_s": float(np.median(durations_s)) if len(bouts) else np.nan,
                "latency_s": round(bouts[0, 0] / fps, SECONDS_DECIMALS) if len(bouts) else np.nan,
                "labeled_frames": labeled_frames,
                "n_frames": n_frames,
                "fps": fps,
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def summarize_paths(
    csv_paths: Sequence[str | Path],
    fps: float | Sequence[float] | None = None,
    video_paths: Sequence[str | Path] | None = None,
    include_background: bool = False,
) -> pd.DataFrame:
    """Summarize many label or prediction CSVs into one table.

    Parameters
    ----------
    csv_paths
        DeepEthogram-format CSVs, one per video.
    fps
        One frame rate for all files, or one per file.
    video_paths
        The videos, in the same order, to read each frame rate from (when ``fps`` is not given).
    include_background
        Also summarize ``background``.

    Returns
    -------
    pandas.DataFrame
        The :func:`summary_table` rows of every file; ``video`` is the file's stem without
        ``_predictions`` / ``_labels``.
    """
    paths = [Path(p) for p in csv_paths]
    rates = _frame_rates(paths, fps, video_paths)
    tables = []
    for path, rate in zip(paths, rates, strict=True):
        table = read_labels(path)
        tables.append(
            summary_table(table.values, table.behaviors, rate, video_name(path), include_background)
        )
    if not tables:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    return pd.concat(tables, ignore_index=True)


def _frame_rates(
    paths: list[Path],
    fps: float | Sequence[float] | None,
    video_paths: Sequence[str | Path] | None,
) -> list[float]:
    if fps is not None:
        if np.ndim(fps) > 0:
            fps = list(np.ravel(fps))
            if len(fps) != len(paths):
                raise ConfigError(f"got {len(paths)} CSV file(s) but {len(fps)} frame rates")
            return [check_fps(f) for f in fps]
        return [check_fps(fps)] * len(paths)
    if video_paths is None:
        if not paths:
            return []
        raise ConfigError(
            "frame rate unknown: give fps or the video files to read it from "
            f"(for {len(paths)} CSV file(s), e.g. {paths[0]})"
        )
    if len(video_paths) != len(paths):
        raise ConfigError(f"got {len(paths)} CSV file(s) but {len(video_paths)} video files")
    from ethogram.io.video import video_info

    return [check_fps(video_info(v).fps, f"{v}: frame rate") for v in video_paths]


def plot_ethogram(
    values: np.ndarray,
    class_names: Sequence[str],
    fps: float,
    path: str | Path,
    title: str | None = None,
    include_background: bool = False,
) -> Path:
    """Draw an ethogram raster (behaviors as rows, time in seconds) and save it.

    Each bout is a colored bar; unlabeled (-1) stretches are hatched grey. The right margin gives
    each behavior's share of labeled time. The figure is drawn with matplotlib's Agg canvas (no
    pyplot state, no display needed) and written atomically.

    Parameters
    ----------
    values
        int8 array (T, K) of 1/0/-1, ``background`` first.
    class_names
        The K class names.
    fps
        Frames per second of the video.
    path
        Output image (``.png``, ``.pdf``, ``.svg``, ...).
    title
        Figure title.
    include_background
        Also draw a ``background`` row.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [str(c) for c in class_names]
    values = validate_values(values, names)
    fps = check_fps(fps)
    path = Path(path)
    rows = _columns(names, include_background)
    n_rows = max(len(rows), 1)
    duration_s = values.shape[0] / fps

    fig = Figure(figsize=(10, 1.2 + 0.42 * n_rows), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["tab10"]
    has_unlabeled = False
    for i, (k, _) in enumerate(rows):
        y = n_rows - 1 - i  # first behavior on top
        column = values[:, k]
        color = "#9e9e9e" if k == 0 else cmap((k - 1) % 10)
        spans = [(s / fps, (e - s) / fps) for s, e in find_bouts(column == 1)]
        if spans:
            # a thin edge in the bar's color keeps one-frame bouts visible in long videos
            ax.broken_barh(
                spans, (y - 0.38, 0.76), facecolors=color, edgecolors=color, lw=0.4, zorder=2
            )
        gaps = [(s / fps, (e - s) / fps) for s, e in find_bouts(column == -1)]
        if gaps:
            has_unlabeled = True
            ax.broken_barh(
                gaps,
                (y - 0.38, 0.76),
                facecolors="#eeeeee",
                edgecolors="#bbbbbb",
                hatch="///",
                lw=0,
                zorder=2,
            )
        labeled = int((column != -1).sum())
        share = f"{100 * (column == 1).sum() / labeled:.1f}%" if labeled else "n/a"
        ax.text(1.005, y, share, transform=ax.get_yaxis_transform(), va="center", fontsize=9)
    if rows:
        ax.text(
            1.005,
            n_rows - 0.4,
            "% time",
            transform=ax.get_yaxis_transform(),
            va="bottom",
            fontsize=8,
        )
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([name for _, name in reversed(rows)] if rows else [""])
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.set_xlim(0, duration_s if duration_s > 0 else 1.0)
    ax.set_xlabel("time (s)")
    ax.grid(axis="x", color="#dddddd", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if has_unlabeled:
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(facecolor="#eeeeee", edgecolor="#bbbbbb", hatch="///", label="unlabeled")
            ],
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            fontsize=8,
        )
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt)
    return path


@dataclass
class SummaryInput:
    """One video to summarize: its name, its label or prediction CSV, its frame rate, and its
    frame count if known (a CSV of another length is refused)."""

    name: str
    csv_path: Path
    fps: float
    n_frames: int | None = None


@dataclass
class SummaryOutputs:
    """What :func:`write_summaries` wrote."""

    summary: pd.DataFrame
    summary_path: Path
    bouts_paths: list[Path] = field(default_factory=list)
    figure_paths: list[Path] = field(default_factory=list)


def write_summaries(
    inputs: Sequence[SummaryInput],
    out: str | Path,
    include_background: bool = False,
    figures: bool = True,
    kind: str = "predictions",
) -> SummaryOutputs:
    """Summarize many videos and write the files, atomically.

    Writes ``out`` (one row per video and behavior, :data:`SUMMARY_COLUMNS`), and beside it
    ``bouts/<name>_bouts.csv`` (:data:`BOUT_COLUMNS`) and ``figures/<name>_ethogram.png`` per video.

    Parameters
    ----------
    inputs
        The videos (names must be unique).
    out
        Path of the summary CSV.
    include_background
        Also summarize ``background``.
    figures
        Draw the ethogram figures.
    kind
        What the CSVs hold (``predictions`` or ``labels``), shown in figure titles.

    Returns
    -------
    SummaryOutputs
        The summary table and the paths written.
    """
    out = Path(out)
    names = [item.name for item in inputs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        files = [str(item.csv_path) for item in inputs if item.name in dupes]
        raise LabelError(f"several files are for the same video {dupes}: {files}")
    if out.is_dir():
        raise ConfigError(
            f"{out}: is a folder; expected the path of the summary CSV to write, e.g. "
            f"{out / 'summary.csv'}"
        )
    tables = [_read_whole(item, kind) for item in inputs]  # every file checked before writing
    result = SummaryOutputs(summary=pd.DataFrame(columns=SUMMARY_COLUMNS), summary_path=out)
    summaries = []
    for item, labels in zip(inputs, tables, strict=True):
        values, behaviors = labels.values, labels.behaviors
        summaries.append(summary_table(values, behaviors, item.fps, item.name, include_background))
        bouts = bouts_table(values, behaviors, item.fps, include_background)
        bouts_path = out.parent / "bouts" / f"{item.name}_bouts.csv"
        with atomic_path(bouts_path) as tmp:
            bouts.to_csv(tmp, index=False)
        result.bouts_paths.append(bouts_path)
        if figures:
            figure_path = out.parent / "figures" / f"{item.name}_ethogram.png"
            title = f"{item.name}  ({kind}, {item.fps:g} fps)"
            plot_ethogram(values, behaviors, item.fps, figure_path, title, include_background)
            result.figure_paths.append(figure_path)
    if summaries:
        result.summary = pd.concat(summaries, ignore_index=True)
    with atomic_path(out) as tmp:
        result.summary.to_csv(tmp, index=False)
    return result


def _read_whole(item: SummaryInput, kind: str):
    """The labels of one input, refused if their length differs from the video's."""
    labels = read_labels(item.csv_path)
    if item.n_frames is not None and labels.n_frames != item.n_frames:
        fix = (
            "predict the video again (`ethogram predict`)"
            if kind == "predictions"
            else "expected one row per frame"
        )
        raise LabelError(
            f"{item.csv_path}: has {labels.n_frames} rows but the video has {item.n_frames} "
            f"frames (cut short?); {fix}"
        )
    return labels
