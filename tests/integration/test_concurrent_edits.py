"""Several processes change one project at once: every change lands whole or is refused clearly.

Five processes race: one renames a behavior again and again, one adds behaviors, two add the same
videos (one of each pair must win), one saves labels as the GUI does. Each records what it was
told; the project must then hold exactly the changes that were reported as done.
"""

import json
import subprocess
import sys
import textwrap
import time

import numpy as np

from ethogram.io.labels import read_labels, write_labels
from ethogram.project import Project
from tests.conftest import make_video

BEHAVIORS = ["background", "groom", "rear"]
N_VIDEOS = 6
N_STEPS = 8

WORKER = textwrap.dedent(
    """
    import json, sys, time, traceback
    from pathlib import Path

    import numpy as np

    from ethogram.errors import EthogramError
    from ethogram.project import Project

    root, role, videos = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    n_steps, n_videos = int(sys.argv[4]), int(sys.argv[5])
    project = Project.open(root)
    log = []
    (root.parent / f"ready_{role}").touch()
    while not (root.parent / "go").exists():  # start together, imports done
        time.sleep(0.01)

    def attempt(op, fn):
        try:
            fn()
            log.append({"op": op, "ok": True})
        except EthogramError as exc:
            log.append({"op": op, "ok": False, "message": str(exc)})
        except Exception:
            log.append({"op": op, "ok": False, "crash": traceback.format_exc()})

    if role == "renamer":
        name = "groom"
        for i in range(n_steps):
            new = f"groom{i}"
            attempt(["rename", name, new], lambda: project.rename_behavior(name, new))
            if log[-1]["ok"]:
                name = new
    elif role == "behaviors":
        for i in range(n_steps):
            attempt(["add_behavior", f"b{i}"], lambda: project.add_behavior(f"b{i}"))
    elif role.startswith("videos"):
        for i in range(n_videos):
            video = videos / f"a{i}.mp4"
            labels = videos / f"a{i}_labels.csv" if i % 2 else None
            attempt(["add", f"a{i}"], lambda: project.add_video(video, labels=labels))
    elif role == "saver":
        for i in range(3 * n_steps):
            columns = []

            def save():
                project.reload()
                names = project.behaviors
                columns.append(len(names))
                values = np.full((24, len(names)), -1, np.int8)
                values[: i + 1, 0] = 1  # the frames labeled so far: background
                values[: i + 1, 1:] = 0
                project.write_labels("v0", values, behaviors=names)

            attempt(["save", i], save)
            log[-1]["op"].append(columns[-1] if columns else 0)
    print(json.dumps(log))
    """
)


def _setup(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom", "rear"])
    videos = tmp_path / "videos"
    videos.mkdir()
    for stem in ("v0", "v1"):
        make_video(videos / f"{stem}.mp4", n_frames=24)
        values = np.zeros((24, 3), np.int8)
        values[:, 0] = 1
        write_labels(videos / f"{stem}_labels.csv", values, BEHAVIORS)
        project.add_video(videos / f"{stem}.mp4", labels=videos / f"{stem}_labels.csv")
    for i in range(N_VIDEOS):
        make_video(videos / f"a{i}.mp4", n_frames=12, seed=i)
        if i % 2:
            values = np.full((12, 3), -1, np.int8)
            write_labels(videos / f"a{i}_labels.csv", values, BEHAVIORS)
    return project, videos


def _run_workers(project, videos, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    roles = ["renamer", "behaviors", "videos1", "videos2", "saver"]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(project.root), role, str(videos)]
            + [str(N_STEPS), str(N_VIDEOS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in roles
    ]
    while not all((tmp_path / f"ready_{role}").exists() for role in roles):
        assert all(proc.poll() is None for proc in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    (tmp_path / "go").touch()
    logs = {}
    for role, proc in zip(roles, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        logs[role] = json.loads(out)
    return logs


def test_concurrent_edits_each_land_whole_or_are_refused_with_one_line(tmp_path):
    project, videos = _setup(tmp_path)
    logs = _run_workers(project, videos, tmp_path)
    entries = [entry for log in logs.values() for entry in log]
    assert not [e["crash"] for e in entries if "crash" in e]
    for entry in entries:  # a refusal is one line naming what happened
        if not entry["ok"]:
            assert "\n" not in entry["message"] and entry["message"], entry

    final = Project.open(project.root)
    # every rename and behavior add that was reported done is there, in order; nothing else
    renamed = [e["op"][2] for e in logs["renamer"] if e["ok"]]
    added = [e["op"][1] for e in logs["behaviors"] if e["ok"]]
    assert final.behaviors == ["background", renamed[-1] if renamed else "groom", "rear"] + added
    for entry in logs["behaviors"]:  # with so short a wait, only a busy project refuses
        assert entry["ok"] or "busy" in entry["message"], entry

    # each racing video was added at most once, and every video is whole, with current labels
    stems = {r.stem for r in final.videos}
    for i in range(N_VIDEOS):
        done = [e for role in ("videos1", "videos2") for e in logs[role] if e["op"][1] == f"a{i}"]
        n_ok = sum(e["ok"] for e in done)
        assert n_ok <= 1 and (f"a{i}" in stems) == (n_ok == 1), done
        if i % 2 == 0 and n_ok == 0:  # no labels to disagree with: only waiting out the lock
            assert all("lock" in e["message"] for e in done), done  # (a very busy machine)
    for record in final.videos:
        assert record.record_path.is_file() and record.video_path.is_file()
        if record.has_labels:
            assert read_labels(record.labels_path, behaviors=final.behaviors).n_frames > 0
    assert sorted(p.name for p in final.data_dir.iterdir()) == sorted(stems)  # nothing staged

    # the labels of v0 are those of the last save reported done (columns added since: -1)
    saves = [e["op"] for e in logs["saver"] if e["ok"]]
    assert saves, logs["saver"]
    _, step, n_columns = saves[-1]
    values = final.read_labels("v0").values
    assert (values[: step + 1, 0] == 1).all() and (values[: step + 1, 1:n_columns] == 0).all()
    assert (values[step + 1 :, :n_columns] == -1).all() and (values[:, n_columns:] == -1).all()
