"""Write an evaluation to a folder: metrics.json, figures/*.png and a self-contained report.html.

The report is one HTML file with inline CSS and the figures embedded as base64 PNG, so it can be
mailed or archived alongside a paper and opens in any browser without a network.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from ethogram.evaluate import figures as figs
from ethogram.evaluate.metrics import IOU_THRESHOLDS, SequencePair, evaluate_sequences
from ethogram.io.atomic import atomic_write_text

MAX_ETHOGRAMS = 24  # per-video ethogram figures written (the rest are listed, not drawn)

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
td.na { color: #999; } td.warn { background: #fde2e1; } .swatch { display: inline-block;
  width: .9em; height: .9em; border-radius: 2px; margin-right: .4em; vertical-align: middle; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: .85em; }
.note { color: #555; font-size: .9em; } .kv td { text-align: left; }
"""


def _fmt(value, digits: int = 3, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (int, np.integer)) and not percent:
        return str(int(value))
    value = float(value)
    return f"{100 * value:.1f}%" if percent else f"{value:.{digits}f}"


def _cell(value, digits: int = 3, percent: bool = False, cls: str = "") -> str:
    cls = "na" if value is None else cls
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_fmt(value, digits, percent)}</td>"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _name_cell(name: str, colors: dict[str, str]) -> str:
    swatch = f'<span class="swatch" style="background:{colors.get(name, "#999")}"></span>'
    return f"<td>{swatch}{html.escape(name)}</td>"


def _overall_table(result: dict) -> str:
    o = result["overall"]
    rows = [
        ("Frame F1, macro (all behaviors)", o["f1_macro"]),
        ("Frame F1, macro (without background)", o["f1_macro_no_background"]),
        ("Precision, macro", o["precision_macro"]),
        ("Recall, macro", o["recall_macro"]),
        ("Accuracy (whole label vector right)", o["accuracy_exact"]),
        ("Accuracy, mean over behaviors", o["accuracy_per_class_mean"]),
        ("AUROC, macro", o["auroc_macro"]),
        ("Average precision (mAP), macro", o["ap_macro"]),
    ]
    rows += [(f"Segmental F1 @ IoU {k}", v) for k, v in o["segmental_f1"].items()]
    body = "".join(f"<tr><td>{html.escape(n)}</td>{_cell(v)}</tr>" for n, v in rows)
    body += f"<tr><td>Edit score (0-100)</td>{_cell(o['edit'], 1)}</tr>"
    return f"<table><tr><th>Metric</th><th>Value</th></tr>{body}</table>"


def _per_class_table(result: dict, colors: dict[str, str]) -> str:
    seg = [f"{iou:.2f}" for iou in IOU_THRESHOLDS]
    head = ["Behavior", "Precision", "Recall", "F1", "Accuracy", "AUROC", "AP"]
    head += [f"Seg. F1@{s}" for s in seg] + ["True frames", "Predicted frames"]
    rows = []
    for r in result["per_class"]:
        cells = [_name_cell(r["name"], colors)]
        cells += [_cell(r[k]) for k in ("precision", "recall", "f1", "accuracy", "auroc", "ap")]
        cells += [_cell(r[f"segmental_f1@{s}"]) for s in seg]
        cells += [_cell(r["support"]), _cell(r["n_predicted"])]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _time_budget_table(result: dict, colors: dict[str, str]) -> str:
    head = (
        "<tr><th rowspan=2>Behavior</th><th colspan=2>Total time (s)</th>"
        "<th colspan=2>Share of time</th><th colspan=2>Bouts</th>"
        "<th colspan=2>Mean bout (s)</th><th colspan=2>Median bout (s)</th></tr><tr>"
        + "<th>true</th><th>predicted</th>" * 5
        + "</tr>"
    )
    rows = []
    for r in result["time_budget"]:
        t, p = r["true"], r["predicted"]
        cells = [_name_cell(r["name"], colors)]
        for key, digits, pct in (
            ("total_s", 1, False),
            ("fraction", 1, True),
            ("n_bouts", 0, False),
            ("mean_bout_s", 2, False),
            ("median_bout_s", 2, False),
        ):
            tv, pv = t[key], p[key]
            off = tv is not None and pv is not None and abs(pv - tv) > 0.2 * max(abs(tv), 1e-9)
            cells += [_cell(tv, digits, pct), _cell(pv, digits, pct, "warn" if off else "")]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _per_video_table(result: dict) -> str:
    head = "<tr><th>Video</th><th>Frames</th><th>Labeled</th><th>F1 macro (no bg)</th>"
    head += "<th>Accuracy</th><th>Seg. F1@0.50</th><th>Edit</th></tr>"
    rows = []
    for v in result["per_video"]:
        rows.append(
            f"<tr><td>{html.escape(v['name'])}</td>{_cell(v['n_frames'])}"
            f"{_cell(v['n_frames_labeled'])}{_cell(v['f1_macro_no_background'])}"
            f"{_cell(v['accuracy_exact'])}{_cell(v['segmental_f1']['0.50'])}"
            f"{_cell(v['edit'], 1)}</tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def render_html(
    result: dict,
    figure_paths: dict[str, list[Path]],
    title: str = "ethogram evaluation",
    source: dict | None = None,
    settings_text: str | None = None,
) -> str:
    """Build the report page from an :func:`evaluate_sequences` result and written figures."""
    colors = figs.behavior_colors(result["class_names"])
    source = source or {}
    info = {
        **{k: str(v) for k, v in source.items() if v is not None},
        "videos": str(result["n_videos"]),
        "frames (labeled / total)": f"{result['n_frames_labeled']} / {result['n_frames']}",
        "labeled time": f"{result['labeled_s']:.1f} s" if result["labeled_s"] else "0 s",
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }
    kv = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in info.items()
    )
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<table class='kv'>{kv}</table>",
        "<h2>Overall</h2>",
        _overall_table(result),
        "<p class='note'>Frames with a -1 (unlabeled) label are excluded from every number. "
        "n/a: undefined (no such frames predicted or present, or no probabilities). "
        f"Segment metrics: {html.escape(result['segment_definition'])}.</p>",
        "<h2>Per behavior</h2>",
        _per_class_table(result, colors),
        "<h2>Time budget: do the numbers you will publish agree?</h2>",
        "<p class='note'>Computed on labeled frames only. Predicted values more than 20% away "
        "from the true value are highlighted.</p>",
        _time_budget_table(result, colors),
    ]
    for key, heading in (
        ("time_budget", None),
        ("confusion", "Confusion matrix"),
        ("pr_curves", "Precision-recall curves"),
        ("threshold_curves", "Threshold curves"),
        ("training_curves", "Training curves"),
    ):
        paths = figure_paths.get(key) or []
        if paths and heading:
            parts.append(f"<h2>{heading}</h2>")
        parts += [_img(p, key) for p in paths]
    parts += ["<h2>Per video</h2>", _per_video_table(result)]
    ethograms = figure_paths.get("ethograms") or []
    if ethograms:
        parts.append("<h2>Ethograms</h2>")
        parts += [_img(p, p.stem) for p in ethograms]
        if len(ethograms) < result["n_videos"]:
            parts.append(f"<p class='note'>First {len(ethograms)} videos shown.</p>")
    if settings_text:
        parts += [
            "<h2>Model settings (config.yaml)</h2>",
            f"<pre>{html.escape(settings_text)}</pre>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_evaluation(
    pairs: Sequence[SequencePair],
    class_names: Sequence[str],
    out_dir: str | Path,
    fps: float = 30.0,
    model_dir: str | Path | None = None,
    thresholds: np.ndarray | None = None,
    source: dict | None = None,
    title: str = "ethogram evaluation",
) -> dict:
    """Evaluate ``pairs`` and write metrics.json, figures/*.png and report.html into ``out_dir``.

    Parameters
    ----------
    pairs
        One :class:`SequencePair` per video.
    class_names
        Behavior names, ``background`` first.
    out_dir
        Output folder (created).
    fps
        Frames per second for pairs without their own.
    model_dir
        Model folder whose ``config.yaml`` and ``metrics.json`` (training curves, thresholds) go
        into the report.
    thresholds
        Thresholds behind the predictions (marked in the threshold curves); read from the model's
        metrics.json when not given.
    source
        Where labels and predictions came from, shown at the top of the report.
    title
        Report title.

    Returns
    -------
    dict
        The metrics (as written to metrics.json), with ``files`` listing what was written.
    """
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    result = evaluate_sequences(pairs, class_names, fps=fps)
    names = list(class_names)
    model_metrics, settings_text = {}, None
    if model_dir is not None:
        model_dir = Path(model_dir)
        if (model_dir / "metrics.json").is_file():
            try:
                model_metrics = json.loads((model_dir / "metrics.json").read_text())
            except json.JSONDecodeError:
                model_metrics = {}
        if (model_dir / "config.yaml").is_file():
            settings_text = (model_dir / "config.yaml").read_text()
    if thresholds is None and model_metrics.get("thresholds") is not None:
        candidate = np.asarray(model_metrics["thresholds"], dtype=float)
        if candidate.shape == (len(names),):
            thresholds = candidate

    paths: dict[str, list[Path]] = {}
    paths["time_budget"] = [
        figs.plot_time_budget(result["time_budget"], fig_dir / "time_budget.png")
    ]
    paths["confusion"] = [
        figs.plot_confusion(result["confusion"]["counts"], names, fig_dir / "confusion.png")
    ]
    if result["has_probabilities"]:
        labels = np.concatenate([p.labels for p in pairs])
        probs = np.concatenate([p.probabilities for p in pairs])
        preds = np.concatenate([p.predictions for p in pairs])
        paths["pr_curves"] = [
            figs.plot_pr_curves(labels, probs, names, fig_dir / "pr_curves.png", preds)
        ]
        paths["threshold_curves"] = [
            figs.plot_threshold_curves(
                labels, probs, names, fig_dir / "threshold_curves.png", thresholds
            )
        ]
    if model_metrics:
        curve = figs.plot_training_curves(model_metrics, fig_dir / "training_curves.png")
        paths["training_curves"] = [curve] if curve else []
    paths["ethograms"] = [
        figs.plot_ethogram(
            p.labels,
            p.predictions,
            names,
            fig_dir / f"ethogram_{p.name}.png",
            fps=float(p.fps or fps),
            title=f"{p.name}: true vs predicted",
        )
        for p in list(pairs)[:MAX_ETHOGRAMS]
    ]
    if source:
        result["source"] = {k: str(v) for k, v in source.items() if v is not None}
    html_text = render_html(result, paths, title, source, settings_text)
    atomic_write_text(out_dir / "report.html", html_text)
    files = [out_dir / "metrics.json", out_dir / "report.html"]
    files += [p for group in paths.values() for p in group]
    result["files"] = [str(p.relative_to(out_dir)) for p in files]
    atomic_write_text(out_dir / "metrics.json", json.dumps(result, indent=2, allow_nan=False))
    return result
