"""Bad inputs through the command line: each gets its one-line error, exit status 2, no traceback,
and changes nothing.

The commands run in this process through the console script's entry point
(:func:`ethogram.cli.main.run`), as ``ethogram ARGS`` would run them, so the table stays fast.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ethogram.io.labels import write_labels
from ethogram.project import Project
from tests.conftest import make_video, snapshot

BEHAVIORS = ["background", "groom", "rear"]
N_FRAMES = 20


def run_in_process(capsys, monkeypatch, *args) -> tuple[int, str]:
    """Run ``ethogram ARGS`` through the console script's entry point; (exit status, stderr)."""
    from ethogram.cli.main import run

    monkeypatch.setattr(sys, "argv", ["ethogram", *map(str, args)])
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # run() replaces it
    capsys.readouterr()
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def _labels(n: int) -> np.ndarray:
    values = np.zeros((n, 3), np.int8)
    values[:, 0] = 1
    return values


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Input files shared by every case (never changed by them)."""
    root = tmp_path_factory.mktemp("bad_inputs")
    make_video(root / "v.mp4", n_frames=N_FRAMES)
    make_video(root / "w.mp4", n_frames=N_FRAMES, seed=1)
    make_video(root / "one_frame.mp4", n_frames=1)
    cv2.imwrite(str(root / "picture.png"), np.zeros((32, 32, 3), np.uint8))
    (root / "picture.mp4").write_bytes((root / "picture.png").read_bytes())
    (root / "no_images").mkdir()
    (root / "no_images" / "notes.txt").write_text("not an image")
    lines = [",background,groom,rear"] + [f"{i},1,0,0" for i in [0, 1, 1] + list(range(3, 20))]
    (root / "twice_labels.csv").write_text("\n".join(lines) + "\n")
    (root / "twice_dir").mkdir()
    (root / "twice_dir" / "v_labels.csv").write_text("\n".join(lines) + "\n")
    dup = [",background,groom,groom"] + [f"{i},1,0,0" for i in range(N_FRAMES)]
    (root / "dup_labels.csv").write_text("\n".join(dup) + "\n")
    (root / "dup_csvs").mkdir()
    (root / "dup_csvs" / "v_predictions.csv").write_text("\n".join(dup) + "\n")
    (root / "dup_label_dir").mkdir()
    (root / "dup_label_dir" / "v_labels.csv").write_text("\n".join(dup) + "\n")
    (root / "labels").mkdir()
    (root / "preds").mkdir()
    write_labels(root / "labels" / "v_labels.csv", _labels(N_FRAMES), BEHAVIORS)
    write_labels(root / "preds" / "v_predictions.csv", _labels(N_FRAMES), BEHAVIORS)
    (root / "a_file").write_text("in the way")
    (root / "a_folder").mkdir()
    return root


@pytest.fixture
def project(tmp_path, files) -> Project:
    """A project with video ``v`` (labeled), and a predictions CSV cut to half its rows."""
    project = Project.create(tmp_path / "proj", ["groom", "rear"])
    write_labels(tmp_path / "v_labels.csv", _labels(N_FRAMES), BEHAVIORS)
    project.add_video(files / "v.mp4", labels=tmp_path / "v_labels.csv")
    write_labels(project.video("v").predictions_path, _labels(N_FRAMES // 2), BEHAVIORS)
    return project


def _set_config(project: Project, key: str, value) -> None:
    config = yaml.safe_load(project.config_path.read_text())
    section, _, name = key.partition(".")
    if name:
        config[section][name] = value
    else:
        config[section] = value
    project.config_path.write_text(yaml.safe_dump(config))


# (case, config change, args with {P} the project and {F} the input folder, expected message)
CASES = [
    ("ethogram section a list", ("ethogram", [1]), ["info", "{P}"],
     "'ethogram:' must be a section with 'preset:' and 'settings:', found a list"),
    ("settings not a section, info", ("ethogram.settings", "abc"), ["info", "{P}"],
     "'ethogram.settings' must be a section of settings (e.g. 'train: {epochs: 3}'), found "
     "the text 'abc'"),
    ("settings not a section, train", ("ethogram.settings", "abc"), ["train", "{P}"],
     "'ethogram.settings' must be a section of settings"),
    ("flow --out a folder", None, ["flow", "{F}/v.mp4", "--out", "{F}/a_folder"],
     "--out {F}/a_folder: is a folder; expected the path of a file to write, e.g. "
     "{F}/a_folder/v_flow.tif"),
    ("summarize --out a folder", None, ["summarize", "{P}", "--out", "{F}/a_folder"],
     "--out {F}/a_folder: is a folder; expected the path of a file to write"),
    ("evaluate --out a file", None,
     ["evaluate", "--labels", "{F}/labels", "--predictions", "{F}/preds", "--out", "{F}/a_file"],
     "--out {F}/a_file: is a file; expected a folder to write into"),
    ("add a 1-frame video", None, ["add", "{P}", "{F}/one_frame.mp4"],
     "{F}/one_frame.mp4: has 1 frame(s); expected a video of at least 2 frames"),
    ("add an image renamed .mp4", None, ["add", "{P}", "{F}/picture.mp4"],
     "{F}/picture.mp4: is a single PNG image, not a video"),
    ("add a folder without images", None, ["add", "{P}", "{F}/no_images"],
     "{F}/no_images: a folder with no images; expected a video file, or a folder of"),
    ("add the same name twice", None, ["add", "{P}", "{F}/v.mp4"],
     "{P}: a video named 'v' is already in the project"),
    ("add labels whose index is not 0..N-1", None,
     ["add", "{P}", "{F}/w.mp4", "--labels", "{F}/twice_labels.csv"],
     "{F}/twice_labels.csv: the index column must number the frames 0..19, each once (in any "
     "order); found frame 1 more than once"),
    ("evaluate labels whose index is not 0..N-1", None,
     ["evaluate", "--labels", "{F}/twice_dir", "--predictions", "{F}/preds", "--out", "{F}/ev"],
     "{F}/twice_dir/v_labels.csv: the index column must number the frames 0..19"),
    ("evaluate a duplicate label column", None,
     ["evaluate", "--labels", "{F}/dup_label_dir", "--predictions", "{F}/preds", "--out",
      "{F}/ev"],
     "{F}/dup_label_dir/v_labels.csv: duplicate behavior column(s) ['groom']"),
    ("summarize duplicate column", None,
     ["summarize", "{F}/dup_csvs", "--fps", "30", "--out", "{F}/dup_csvs/out/summary.csv"],
     "{F}/dup_csvs/v_predictions.csv: duplicate behavior column(s) ['groom']; expected one"),
    ("summarize a short predictions CSV", None, ["summarize", "{P}", "--out", "{F}/s/sum.csv"],
     "{P}/DATA/v/v_predictions.csv: has 10 rows but the video has 20 frames (cut short?); "
     "predict the video again"),
    ("split above 1", None, ["train", "{P}", "train.split=[0.8,0.4,0]"],
     "setting 'train.split': expected fractions that sum to 1, they sum to 1.2"),
    ("negative split", None, ["train", "{P}", "train.split=[1.2,-0.2,0]"],
     "setting 'train.split': expected three fractions between 0 and 1, training above 0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("config_change", "args", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_gets_one_line_exit_2_and_changes_nothing(
    capsys, monkeypatch, files, project, config_change, args, expected
):
    if config_change is not None:
        _set_config(project, *config_change)
    before, inputs_before = snapshot(project.root), snapshot(files)

    def fill(text: str) -> str:
        return text.replace("{P}", str(project.root)).replace("{F}", str(files))

    code, err = run_in_process(capsys, monkeypatch, *[fill(a) for a in args])
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: ") and fill(expected) in err, err
    assert snapshot(project.root) == before and snapshot(files) == inputs_before


def test_busy_project_is_refused_naming_the_command_that_holds_it(
    capsys, monkeypatch, project, tmp_path
):
    script = tmp_path / "long_change.py"
    script.write_text(
        "import sys\nfrom ethogram.project import Project\n"
        "with Project.open(sys.argv[1]).lock('add_behavior'):\n"
        "    print('holding', flush=True)\n    sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, str(script), str(project.root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        monkeypatch.setenv("ETHOGRAM_LOCK_TIMEOUT", "0.2")
        before = snapshot(project.root)
        code, err = run_in_process(
            capsys, monkeypatch, "behaviors", "rename", project.root, "groom", "grooming"
        )
        after = snapshot(project.root)
    finally:
        holder.communicate("\n", timeout=60)
    assert code == 2 and err.count("\n") == 1, err
    assert f"{project.root}: the project is busy: `" in err and "long_change.py" in err
    assert f"(pid {holder.pid}, add_behavior since " in err
    assert "rename_behavior waited 0.2 s" in err
    assert after == before


def test_a_folder_of_images_is_added_as_a_video(capsys, monkeypatch, files, tmp_path):
    frames = tmp_path / "session_images"
    frames.mkdir()
    for i in range(12):
        image = np.full((32, 48, 3), 10 * i, np.uint8)
        cv2.imwrite(str(frames / f"frame{i}.png"), image)  # frame10 after frame9
    project = Project.create(tmp_path / "p3", ["groom", "rear"])
    code, err = run_in_process(capsys, monkeypatch, "add", project.root, frames)
    assert code == 0, err
    record = project.video("session_images")
    info = record.info()
    assert (info.n_frames, info.width, info.height) == (12, 48, 32)
    assert record.video_path == record.folder / "session_images" and record.video_path.is_dir()
