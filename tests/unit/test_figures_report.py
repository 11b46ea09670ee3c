"""Figures are real PNGs of sensible size; the report is one self-contained HTML file."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ethogram.evaluate import figures
from ethogram.evaluate.metrics import SequencePair, evaluate_sequences
from ethogram.evaluate.report import write_evaluation

NAMES = ["background", "groom", "rear"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def make_pair(name: str, seed: int, n: int = 300) -> SequencePair:
    rng = np.random.default_rng(seed)
    seq = np.repeat(rng.integers(0, 3, n // 15), 15)
    labels = np.zeros((len(seq), 3), np.int8)
    labels[np.arange(len(seq)), seq] = 1
    probs = np.clip(labels * 0.6 + rng.random(labels.shape) * 0.5, 0, 1)
    preds = (probs > 0.5).astype(np.int8)
    labels[20:35] = -1
    return SequencePair(name, labels, preds, probs.astype(np.float32), fps=30.0)


@pytest.fixture
def pairs():
    return [make_pair("mouse1", 0), make_pair("mouse2", 1)]


def assert_png(path, min_w=400, min_h=200):
    assert path.is_file() and path.stat().st_size > 5_000
    w, h = png_size(path)
    assert min_w <= w <= 3000 and min_h <= h <= 3000


def test_each_figure_is_a_png_of_sensible_size(tmp_path, pairs):
    p = pairs[0]
    result = evaluate_sequences(pairs, NAMES)
    assert_png(figures.plot_ethogram(p.labels, p.predictions, NAMES, tmp_path / "e.png"))
    assert_png(figures.plot_pr_curves(p.labels, p.probabilities, NAMES, tmp_path / "pr.png"))
    assert_png(figures.plot_confusion(result["confusion"]["counts"], NAMES, tmp_path / "c.png"))
    assert_png(figures.plot_threshold_curves(p.labels, p.probabilities, NAMES, tmp_path / "t.png"))
    assert_png(figures.plot_time_budget(result["time_budget"], tmp_path / "tb.png"))
    metrics = {
        "stage": "sequence",
        "epochs": [
            {
                "epoch": i,
                "train_loss": 1 / (i + 1),
                "val_loss": 1.1 / (i + 1),
                "val_f1_macro": 0.1 * i,
            }
            for i in range(5)
        ],
    }
    assert_png(figures.plot_training_curves(metrics, tmp_path / "tr.png"))
    assert figures.plot_training_curves({"epochs": []}, tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def test_behavior_colors_are_stable_and_background_is_gray():
    a = figures.behavior_colors(NAMES)
    b = figures.behavior_colors(list(reversed(NAMES)))
    assert a["background"] == figures.BACKGROUND_COLOR
    assert a["groom"] != a["rear"]
    assert len(set(a.values())) == 3
    assert figures.behavior_colors(["background", "groom"])["groom"] == a["groom"]
    assert set(b) == set(a)


def test_figures_do_not_touch_the_pyplot_backend(tmp_path, pairs):
    import matplotlib

    before = matplotlib.get_backend()
    figures.plot_confusion(np.eye(3) * 5, NAMES, tmp_path / "c.png")
    assert matplotlib.get_backend() == before


def test_report_is_one_html_file_with_embedded_images_and_tables(tmp_path, pairs):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.yaml").write_text("preset: fast\nseed: 7\n")
    (model / "metrics.json").write_text(
        json.dumps(
            {
                "stage": "sequence",
                "thresholds": [0.5, 0.4, 0.6],
                "epochs": [
                    {"epoch": 0, "train_loss": 0.9, "val_f1_macro": 0.4},
                    {"epoch": 1, "train_loss": 0.5, "val_f1_macro": 0.6},
                ],
            }
        )
    )
    out = tmp_path / "out"
    result = write_evaluation(pairs, NAMES, out, model_dir=model)
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    # time budget, confusion, PR, thresholds, training curves, two ethograms
    assert len(images) == 7
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing external
    assert "<link" not in html and "<script" not in html
    for text in ("Per behavior", "groom", "rear", "Time budget", "Segmental F1", "seed: 7"):
        assert text in html
    written = json.loads((out / "metrics.json").read_text())
    assert written["overall"] == result["overall"]
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "confusion.png",
        "ethogram_mouse1.png",
        "ethogram_mouse2.png",
        "pr_curves.png",
        "threshold_curves.png",
        "time_budget.png",
        "training_curves.png",
    ]
    assert "figures/confusion.png" in written["files"]


def test_report_without_probabilities_skips_curves_and_says_na(tmp_path, pairs):
    for p in pairs:
        p.probabilities = None
    out = tmp_path / "out"
    write_evaluation(pairs, NAMES, out)
    assert not (out / "figures" / "pr_curves.png").exists()
    html = (out / "report.html").read_text()
    assert "n/a" in html
    assert "Model settings" not in html
