"""Flow on real video files: the ``ethogram flow`` command, streaming, MotionNet training/resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import torch

from ethogram.config import load_settings
from ethogram.errors import FlowError, ModelError
from ethogram.flow import dis
from ethogram.flow.api import compute_flow, iter_video_flow, load_motionnet, video_flow
from ethogram.io.video import read_video, video_info, write_video
from ethogram.nn.motionnet import build_motionnet
from ethogram.project import Project
from ethogram.train.flow import train_flow
from tests.conftest import run_cli
from tests.unit.test_flow_dis import translated_texture


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """One torch/OpenMP thread here and in CLI subprocesses (a loaded, shared 2-core machine)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def moving_video(path, n_frames=12, height=64, width=96, dx=1.0, dy=0.5, seed=0):
    frames = translated_texture(n_frames, max(height, width), dx, dy, seed=seed)[:, :height, :width]
    write_video(path, np.ascontiguousarray(frames), fps=25)
    return path


def test_flow_command_writes_a_tiff_at_video_resolution_and_a_preview(tmp_path):
    video = moving_video(tmp_path / "mouse.mp4")
    out, preview = tmp_path / "flow.tif", tmp_path / "flow.mp4"
    result = run_cli("flow", video, "--out", out, "--preview", preview, "--size", "48")
    assert result.returncode == 0, result.stderr
    assert "(11, 64, 96, 2)" in result.stdout
    flow = tifffile.imread(out)
    assert flow.shape == (11, 64, 96, 2) and flow.dtype == np.float32
    inner = flow[:, 8:-8, 8:-8]  # flow at 48 px, upsampled and rescaled to the video's pixels
    assert abs(np.median(inner[..., 0]) - 1.0) < 0.3
    assert abs(np.median(inner[..., 1]) - 0.5) < 0.3
    info = video_info(preview)
    assert (info.n_frames, info.height, info.width, info.fps) == (11, 64, 96, 25)
    assert not list(tmp_path.glob(".*.tmp*"))  # no temporary files left behind


def test_flow_command_bad_input_is_one_clear_line_and_leaves_no_file(tmp_path):
    short = tmp_path / "short.mp4"
    write_video(short, translated_texture(1, 32, 0, 0), fps=25)
    result = run_cli("flow", short, "--out", tmp_path / "f.tif")
    assert result.returncode == 2
    assert "short.mp4" in result.stderr and "found 1 frames" in result.stderr
    assert "Traceback" not in result.stderr
    video = moving_video(tmp_path / "ok.mp4", n_frames=4)
    result = run_cli("flow", video, "--out", tmp_path / "f.tif", "--method", "farneback")
    assert result.returncode == 2 and "--method" in result.stderr and "dis" in result.stderr
    assert not (tmp_path / "f.tif").exists()


def test_video_flow_streamed_in_small_chunks_equals_flow_of_the_whole_array(tmp_path):
    video = moving_video(tmp_path / "v.mp4", n_frames=15)
    frames = read_video(video)
    settings = load_settings("fast", overrides=["flow.size=32"]).flow
    chunks = list(iter_video_flow(video, settings, progress=False, chunk_size=4))
    assert [first for first, _ in chunks] == [0, 3, 7, 11]
    np.testing.assert_allclose(
        np.concatenate([c for _, c in chunks]), compute_flow(frames, settings), atol=1e-5
    )
    mn_settings = settings.model_copy(update={"method": "motionnet"})
    np.testing.assert_allclose(  # dis.video_flow is DIS whatever the method setting says
        dis.video_flow(video, mn_settings, progress=False), compute_flow(frames, settings)
    )

    torch.manual_seed(0)
    net = build_motionnet("TinyMotionNet", num_images=4, channel_base=8).eval()
    mn = settings.model_copy(update={"method": "motionnet", "stack_frames": 4})
    streamed = np.concatenate(
        [c for _, c in iter_video_flow(video, mn, model=net, progress=False, chunk_size=5)]
    )
    assert streamed.shape == (14, 2, 32, 32)
    np.testing.assert_allclose(streamed, compute_flow(frames, mn, model=net), atol=1e-5)


def test_video_shorter_than_the_motionnet_stack_is_an_error_naming_file_and_count(tmp_path):
    video = moving_video(tmp_path / "brief.mp4", n_frames=3)
    settings = load_settings("fast", overrides=["flow.method=motionnet"]).flow
    net = build_motionnet("TinyMotionNet", num_images=11, channel_base=8)
    with pytest.raises(FlowError, match=r"brief\.mp4.*stack of 11 frames.*found 3 frames"):
        video_flow(video, settings, model=net, progress=False)


@pytest.fixture
def tiny_project(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom"])
    for i, (dx, dy) in enumerate([(1.0, 0.5), (-1.5, 1.0)]):
        video = moving_video(tmp_path / f"v{i}.mp4", n_frames=20, height=48, width=48, dx=dx, dy=dy)
        project.add_video(video)
    return project


def flow_settings(project, epochs):
    overrides = [
        "flow.size=32",
        "flow.stack_frames=3",
        f"flow.epochs={epochs}",
        "flow.steps_per_epoch=3",
        "flow.batch_size=2",
        "device=cpu",
    ]
    return project.settings(overrides=overrides)


def test_flow_training_writes_a_model_directory_that_the_flow_command_uses(tiny_project, tmp_path):
    model_dir = train_flow(tiny_project, flow_settings(tiny_project, 1), progress=False)
    assert model_dir.parent == tiny_project.models_dir and "_flow_" in model_dir.name
    for name in ("config.yaml", "checkpoint.pt", "best.pt", "metrics.json"):
        assert (model_dir / name).is_file(), name
    assert (model_dir / "figures" / "flow_examples.png").stat().st_size > 1000
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["stage"] == "flow" and len(metrics["epochs"]) == 1
    assert metrics["epochs"][0]["val_loss"] > 0
    assert {s[0] for s in metrics["split"]["val"]} == {"v0", "v1"}  # held out per video
    net = load_motionnet(model_dir)
    assert net.num_images == 3

    video = tiny_project.videos[0].video_path
    out = tmp_path / "mn.tif"
    result = run_cli("flow", video, "--method", "motionnet", "--model", model_dir, "--out", out)
    assert result.returncode == 0, result.stderr
    assert tifffile.imread(out).shape == (19, 48, 48, 2)


def test_flow_training_resumes_from_its_checkpoint_instead_of_restarting(tiny_project):
    straight = train_flow(tiny_project, flow_settings(tiny_project, 2), progress=False)
    first = train_flow(tiny_project, flow_settings(tiny_project, 1), progress=False)
    resumed = train_flow(tiny_project, flow_settings(tiny_project, 2), resume=first, progress=False)
    assert resumed == first
    epochs = json.loads((resumed / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1]
    state = torch.load(resumed / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 1
    # epoch 1 of the resumed run is the epoch 1 of an uninterrupted run, not a fresh epoch 0
    reference = json.loads((straight / "metrics.json").read_text())["epochs"]
    assert epochs[1]["train_loss"] == pytest.approx(reference[1]["train_loss"], rel=1e-4)
    assert epochs[1]["val_loss"] == pytest.approx(reference[1]["val_loss"], rel=1e-4)


def test_resuming_a_folder_that_is_not_a_flow_model_is_a_clear_error(tiny_project, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="empty: not a flow model directory"):
        train_flow(tiny_project, flow_settings(tiny_project, 1), resume=tmp_path / "empty")


def test_training_on_videos_shorter_than_the_stack_fails_before_making_a_model_folder(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom"])
    project.add_video(moving_video(tmp_path / "brief.mp4", n_frames=5, height=32, width=32))
    settings = project.settings(overrides=["flow.stack_frames=11"])
    with pytest.raises(FlowError, match=r"at least 11 frames.*brief\.mp4 \(5 frames\)"):
        train_flow(project, settings, progress=False)
    assert project.model_dirs("flow") == []
