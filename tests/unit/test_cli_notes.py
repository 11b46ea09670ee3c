"""Library notes go through logging; the command line alone decides how they are printed."""

from __future__ import annotations

import logging
import subprocess
import sys

from ethogram.cli.notes import notes_shown
from tests.conftest import REPO


def test_notes_go_to_stderr_warnings_are_marked_and_named_loggers_go_to_stdout(capsys):
    with notes_shown(stdout_loggers=("ethogram.train",)):
        logging.getLogger("ethogram.train.features").info("epoch 0: train_loss=0.5")
        logging.getLogger("ethogram.train").info("features: models/x  (validation macro F1 0.8)")
        logging.getLogger("ethogram.train.sequence").warning("few frames of groom")
        logging.getLogger("ethogram.infer.extract").debug("not shown")
    out, err = capsys.readouterr()
    assert out == "features: models/x  (validation macro F1 0.8)\n"
    assert err.splitlines() == ["epoch 0: train_loss=0.5", "warning: few frames of groom"]


def test_notes_are_not_printed_after_the_block(capsys):
    with notes_shown():
        pass
    logging.getLogger("ethogram.infer.extract").info("s1: features already extracted, skipped")
    assert capsys.readouterr() == ("", "")
    assert not logging.getLogger("ethogram").handlers


LOGGING_MODULES = [
    "ethogram.train.pipeline",
    "ethogram.train.features",
    "ethogram.train.sequence",
    "ethogram.train.flow",
    "ethogram.infer.extract",
    "ethogram.data.animal_crop",
]


def test_importing_the_modules_that_log_configures_no_logging():
    code = (
        "import importlib, logging\n"
        f"for name in {LOGGING_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "loggers = [logging.getLogger()] + [logging.getLogger(n) for n in\n"
        "    logging.root.manager.loggerDict if n.startswith('ethogram')]\n"
        "print(sum(len(lg.handlers) for lg in loggers), logging.getLogger('ethogram').level)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0"]
