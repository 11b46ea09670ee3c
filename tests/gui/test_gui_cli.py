"""`ethogram gui` from the command line: screenshots, clear errors, and the missing extra."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")

from ethogram.project import Project  # noqa: E402
from tests.conftest import make_video, run_cli  # noqa: E402


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom"])
    project.add_video(make_video(tmp_path / "clip.mp4", n_frames=40))
    return project


def test_screenshot_renders_the_window_at_a_frame(project, tmp_path):
    out = tmp_path / "shot.png"
    result = run_cli("gui", project.root, "--video", "clip", "--frame", "20", "--screenshot", out)
    assert result.returncode == 0, result.stderr
    assert "Screenshot written" in result.stdout
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
    colours = {image.pixel(x, y) for x in range(0, 1400, 50) for y in range(0, 900, 50)}
    assert len(colours) > 10  # a drawn window, not a blank image


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--video", "nope"], "no video named 'nope'"),
        (["--frame", "400"], "outside the video"),
    ],
)
def test_bad_arguments_get_one_line_errors(project, tmp_path, args, message):
    result = run_cli("gui", project.root, *args, "--screenshot", tmp_path / "x.png")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_folder_that_is_not_a_project_is_an_error(tmp_path):
    result = run_cli("gui", tmp_path, "--screenshot", tmp_path / "x.png")
    assert result.returncode == 2
    assert "not a project folder" in result.stderr


def test_without_the_gui_extra_the_command_says_how_to_install_it(tmp_path):
    block = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.argv = ['ethogram', 'gui']\n"
        "from ethogram.cli.main import run\n"
        "run()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", block],
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
        timeout=120,
    )
    assert result.returncode == 2
    assert "pip install 'ethogram[gui]'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "extra"),
    [("gui", "gui"), ("predict", "cluster"), ("predict", "onnx"), ("export-model", "onnx")],
)
def test_help_shows_the_install_command_with_its_extra(command, extra):
    result = run_cli(command, "--help")
    text = " ".join(result.stdout.split())  # the help is wrapped to the terminal's width
    assert f"pip install 'ethogram[{extra}]'" in text
