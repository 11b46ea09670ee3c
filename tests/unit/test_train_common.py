"""Shared training machinery: resume, early stopping, metrics.json, curves."""

from __future__ import annotations

import json

import torch
from torch import nn

from ethogram.models.checkpoint import load_training_checkpoint
from ethogram.models.folder import BEST_NAME, CHECKPOINT_NAME, read_metrics
from ethogram.train.common import EarlyStopping, fit, seed_everything


def _problem(seed: int = 0):
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] > 0).float()[:, None]
    seed_everything(seed)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

    def train_epoch(epoch):
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        optimizer.step()
        return {"train_loss": loss.item()}

    def validate(epoch):
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        return {"val_loss": float(loss), "score": -float(loss), "per_class": [1.0, float("nan")]}

    return model, optimizer, train_epoch, validate


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=2, mode="max")
    assert stopper.step(0.5, 0)
    assert not stopper.step(0.4, 1)
    assert not stopper.should_stop
    assert not stopper.step(0.5, 2)
    assert stopper.should_stop
    assert stopper.best_epoch == 0


def test_fit_writes_checkpoint_best_metrics_and_figure(tmp_path):
    model, optimizer, train_epoch, validate = _problem()
    result = fit(
        tmp_path, model, optimizer, epochs=3, train_epoch=train_epoch, validate=validate,
        monitor="score", metrics_header={"stage": "toy", "class_names": ["a"]},
    )  # fmt: skip
    assert [row["epoch"] for row in result.history] == [0, 1, 2]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["stage"] == "toy"
    assert metrics["epochs"][1]["per_class"] == [1.0, None]  # NaN becomes null
    assert metrics["epochs"][2]["train_loss"] < metrics["epochs"][0]["train_loss"]
    state = load_training_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["epoch"] == 2 and "optimizer" in state
    assert load_training_checkpoint(tmp_path / BEST_NAME)["epoch"] == result.best_epoch
    assert (tmp_path / "figures" / "training_curves.png").stat().st_size > 0


def test_resumed_fit_continues_at_next_epoch_and_matches_uninterrupted_run(tmp_path):
    model, optimizer, train_epoch, validate = _problem()
    fit(tmp_path / "a", model, optimizer, epochs=4, train_epoch=train_epoch,
        validate=validate, monitor="score", seed=1)  # fmt: skip
    full = model.weight.detach().clone()

    model, optimizer, train_epoch, validate = _problem()
    fit(tmp_path / "b", model, optimizer, epochs=2, train_epoch=train_epoch,
        validate=validate, monitor="score", seed=1)  # fmt: skip
    model, optimizer, train_epoch, validate = _problem(seed=5)  # fresh weights, then resume
    result = fit(tmp_path / "b", model, optimizer, epochs=4, train_epoch=train_epoch,
                 validate=validate, monitor="score", seed=1, resume=True)  # fmt: skip
    assert result.start_epoch == 2
    assert [row["epoch"] for row in read_metrics(tmp_path / "b")["epochs"]] == [0, 1, 2, 3]
    torch.testing.assert_close(model.weight.detach(), full)


def test_fit_stops_early_when_monitor_does_not_improve(tmp_path):
    model, optimizer, train_epoch, _ = _problem()
    result = fit(
        tmp_path, model, optimizer, epochs=10, train_epoch=train_epoch,
        validate=lambda epoch: {"score": 1.0}, monitor="score", patience=2,
    )  # fmt: skip
    assert result.stopped_early and len(result.history) == 3 and result.best_epoch == 0


def test_fit_keeps_the_last_epoch_when_the_monitored_score_is_never_defined(tmp_path, caplog):
    model, optimizer, train_epoch, _ = _problem()
    result = fit(
        tmp_path, model, optimizer, epochs=2, train_epoch=train_epoch,
        validate=lambda epoch: {"score": float("nan")}, monitor="score",
    )  # fmt: skip
    best = load_training_checkpoint(tmp_path / BEST_NAME)
    assert best["epoch"] == 1 == result.best_epoch
    for name, weights in model.state_dict().items():
        assert torch.equal(best["model"][name], weights)
    assert "never measured" in caplog.text
