"""Figures of an evaluation, written as PNG files.

Every function draws on its own :class:`matplotlib.figure.Figure` with the Agg canvas, so nothing
here touches pyplot's global state or the GUI backend. Each behavior keeps the same color in every
figure (:func:`behavior_colors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ethogram.bouts import find_bouts
from ethogram.evaluate.metrics import (
    BACKGROUND,
    choose_thresholds,
    threshold_curves,
    valid_rows,
)
from ethogram.io.atomic import atomic_path

BACKGROUND_COLOR = "#b0b0b0"
UNLABELED_COLOR = "#e6e6e6"
DPI = 110


def behavior_colors(class_names: Sequence[str]) -> dict[str, str]:
    """Color of each behavior (background gray, the others from the tab10/tab20 palettes)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    others = [n for n in class_names if n != BACKGROUND]
    cmap = colormaps["tab10" if len(others) <= 10 else "tab20"]
    colors = {n: to_hex(cmap(i % cmap.N)) for i, n in enumerate(others)}
    colors[BACKGROUND] = BACKGROUND_COLOR
    return colors


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return path


def plot_ethogram(
    labels: np.ndarray,
    predictions: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    fps: float = 30.0,
    title: str = "",
) -> Path:
    """True and predicted ethograms one above the other: behaviors as rows, time in seconds.

    Unlabeled frames (-1) are shaded in the true ethogram.
    """
    names = list(class_names)
    colors = behavior_colors(names)
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    n_frames = len(labels)
    duration = n_frames / fps
    fig = _figure(12, 1.4 + 0.55 * len(names))
    axes = fig.subplots(2, 1, sharex=True)
    rows = list(reversed(names))  # first behavior on top
    for ax, values, panel in (
        (axes[0], labels, "True labels"),
        (axes[1], predictions, "Predicted"),
    ):
        for r, name in enumerate(rows):
            bouts = find_bouts(values[:, names.index(name)] == 1)
            spans = [(s / fps, (e - s) / fps) for s, e in bouts]
            ax.broken_barh(spans, (r + 0.1, 0.8), facecolors=colors[name], edgecolor="none")
        ax.set_yticks(np.arange(len(rows)) + 0.5, rows)
        for tick, name in zip(ax.get_yticklabels(), rows, strict=True):
            tick.set_color(colors[name] if name != BACKGROUND else "#555555")
        ax.set_ylim(0, len(rows))
        ax.set_xlim(0, duration)
        ax.set_title(panel, loc="left", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    unlabeled = find_bouts(~valid_rows(labels))
    if len(unlabeled):
        spans = [(s / fps, (e - s) / fps) for s, e in unlabeled]
        axes[0].broken_barh(
            spans, (0, len(rows)), facecolors=UNLABELED_COLOR, hatch="///", edgecolor="#bbbbbb"
        )
        axes[0].text(
            1.0, 1.02, "hatched: unlabeled", transform=axes[0].transAxes, ha="right", fontsize=8
        )
    axes[1].set_xlabel("Time (s)")
    fig.suptitle(title or "Ethogram: true vs predicted")
    return _save(fig, path)


def plot_pr_curves(
    labels: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    predictions: np.ndarray | None = None,
) -> Path:
    """Precision-recall curve per behavior; a dot marks the operating point of ``predictions``."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    names = list(class_names)
    colors = behavior_colors(names)
    valid = valid_rows(labels)
    y = np.asarray(labels)[valid] == 1
    prob = np.asarray(probabilities, dtype=float)[valid]
    pred = None if predictions is None else np.asarray(predictions)[valid] == 1
    fig = _figure(8.5, 5.5)
    ax = fig.subplots()
    for k, name in enumerate(names):
        if not 0 < y[:, k].sum() < len(y):
            ax.plot([], [], color=colors[name], label=f"{name} (no positive frames)")
            continue
        precision, recall, _ = precision_recall_curve(y[:, k], prob[:, k])
        ap = average_precision_score(y[:, k], prob[:, k])
        ax.step(
            recall, precision, where="post", color=colors[name], lw=2, label=f"{name} (AP {ap:.2f})"
        )
        if pred is not None and pred[:, k].any():
            tp = (pred[:, k] & y[:, k]).sum()
            ax.plot(
                tp / y[:, k].sum(), tp / pred[:, k].sum(), "o", color=colors[name], ms=8, mec="k"
            )
    ax.plot([], [], "o", color="white", mec="k", label="operating point\n(predictions)")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.03)
    ax.set_xlabel("Recall (fraction of true frames found)")
    ax.set_ylabel("Precision (fraction of predicted frames correct)")
    ax.set_title("Precision-recall per behavior")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _save(fig, path)


def plot_confusion(counts: np.ndarray, class_names: Sequence[str], path: str | Path) -> Path:
    """Row-normalized confusion matrix (exclusive view) annotated with percent and frame counts."""
    names = list(class_names)
    counts = np.asarray(counts, dtype=float)
    sums = counts.sum(1, keepdims=True)
    norm = np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0)
    size = 3.0 + 0.9 * len(names)
    fig = _figure(size + 1.2, size)
    ax = fig.subplots()
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            color = "white" if norm[i, j] > 0.55 else "black"
            text = f"{100 * norm[i, j]:.0f}%\n({int(counts[i, j])})"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("Predicted behavior")
    ax.set_ylabel("True behavior")
    ax.set_title("Confusion matrix\n(row = true behavior; % of its frames, frame counts)")
    fig.colorbar(image, ax=ax, label="Fraction of true frames", shrink=0.8)
    return _save(fig, path)


def plot_threshold_curves(
    labels: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    thresholds: np.ndarray | None = None,
) -> Path:
    """F1, precision and recall against the probability threshold, one panel per behavior.

    A dashed line marks ``thresholds`` (the ones in use), else the F1-maximizing thresholds.
    """
    names = list(class_names)
    colors = behavior_colors(names)
    curves = threshold_curves(probabilities, labels)
    chosen = choose_thresholds(probabilities, labels) if thresholds is None else thresholds
    ncols = min(len(names), 4)
    nrows = int(np.ceil(len(names) / ncols))
    fig = _figure(3.2 * ncols + 1.6, 2.7 * nrows + 0.4)
    axes = np.atleast_1d(
        fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    ).ravel()
    t = curves["thresholds"]
    lines = []
    for k, name in enumerate(names):
        ax = axes[k]
        lines = [
            ax.plot(t, curves["f1"][:, k], color="black", lw=2, label="F1")[0],
            ax.plot(t, curves["precision"][:, k], color="#1f77b4", ls="--", label="precision")[0],
            ax.plot(t, curves["recall"][:, k], color="#d62728", ls=":", lw=2, label="recall")[0],
            ax.axvline(chosen[k], color="gray", ls="-.", lw=1, label="threshold used"),
        ]
        title_color = colors[name] if name != BACKGROUND else "#555555"
        ax.set_title(f"{name} (t = {chosen[k]:.2f})", color=title_color, fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.03)
        ax.grid(alpha=0.3)
        if k % ncols == 0:
            ax.set_ylabel("Score")
        if k >= len(names) - ncols:  # the lowest panel of its column
            ax.set_xlabel("Probability threshold")
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.legend(handles=lines, loc="outside right upper", frameon=False)
    fig.suptitle("Frame-wise scores against the threshold")
    return _save(fig, path)


def plot_training_curves(metrics: dict, path: str | Path) -> Path | None:
    """Loss and validation F1 per epoch from a model's ``metrics.json`` contents.

    Returns None when the metrics hold no epochs.
    """
    epochs = [e for e in metrics.get("epochs", []) if isinstance(e, dict)]
    if not epochs:
        return None
    x = [e.get("epoch", i + 1) for i, e in enumerate(epochs)]

    def series(key: str) -> np.ndarray:
        return np.array([np.nan if e.get(key) is None else float(e[key]) for e in epochs])

    fig = _figure(11, 4)
    ax_loss, ax_f1 = fig.subplots(1, 2)
    for key, style in (("train_loss", "-"), ("val_loss", "--")):
        values = series(key)
        if np.isfinite(values).any():
            ax_loss.plot(x, values, style, marker="o", ms=3, label=key.replace("_", " "))
    ax_loss.set_xlabel("Epoch")
    ax_loss.set_ylabel("Loss")
    ax_loss.set_title("Loss")
    f1_keys = [k for k in epochs[-1] if "f1" in k and isinstance(epochs[-1][k], (int, float))]
    for key in f1_keys:
        ax_f1.plot(x, series(key), marker="o", ms=3, label=key.replace("_", " "))
    best = metrics.get("best_epoch")
    for ax in (ax_loss, ax_f1):
        if best is not None:
            ax.axvline(best, color="gray", ls=":", label="kept epoch")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)
    ax_f1.set_xlabel("Epoch")
    ax_f1.set_ylabel("F1")
    ax_f1.set_ylim(0, 1)
    ax_f1.set_title("Validation F1")
    stage = metrics.get("stage")
    fig.suptitle(f"Training curves ({stage})" if stage else "Training curves")
    return _save(fig, path)


def plot_time_budget(time_budget: list[dict], path: str | Path) -> Path:
    """True vs predicted share of time, bout counts and mean bout duration per behavior."""
    names = [row["name"] for row in time_budget]
    colors = behavior_colors(names)
    fig = _figure(12, 1.5 + 0.5 * len(names))
    axes = fig.subplots(1, 3, sharey=True)
    y = np.arange(len(names))
    fields = (
        ("fraction", "Share of labeled time (%)", 100.0),
        ("n_bouts", "Bouts", 1.0),
        ("mean_bout_s", "Mean bout duration (s)", 1.0),
    )
    for ax, (key, xlabel, scale) in zip(axes, fields, strict=True):
        for offset, source, hatch, alpha in (
            (-0.2, "true", "", 1.0),
            (0.2, "predicted", "//", 0.5),
        ):
            values = [(row[source][key] or 0.0) * scale for row in time_budget]
            ax.barh(
                y + offset,
                values,
                height=0.38,
                color=[colors[n] for n in names],
                alpha=alpha,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.5,
            )
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor="#888888", edgecolor="black", label="true (solid)"),
        Patch(facecolor="#dddddd", edgecolor="black", hatch="//", label="predicted (hatched)"),
    ]
    fig.legend(handles=handles, loc="outside right upper", frameon=False)
    fig.suptitle("Time budget: true vs predicted")
    return _save(fig, path)
