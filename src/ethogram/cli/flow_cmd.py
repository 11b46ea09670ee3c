"""``ethogram flow``: a video's optical flow to a float32 TIFF stack (and a color-coded preview)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ethogram.errors import ConfigError, FlowError

if TYPE_CHECKING:
    from ethogram.config import FlowSettings

HELP = (
    "Compute the optical flow of a video and write it as a float32 TIFF stack.\n\n"
    "The TIFF has shape (T-1, H, W, 2): for each pair of consecutive frames t and t+1, dx and dy "
    "in pixels per frame at the video's resolution. Flow is computed on frames resized to "
    "--size x --size (default from the preset), then upsampled to the video's size and rescaled. "
    "--preview writes a color-coded video (hue = direction, brightness = speed).\n\n"
    "Example: ethogram flow mouse.mp4 --out mouse_flow.tif --preview mouse_flow.mp4\n\n"
    "Example: ethogram flow mouse.mp4 --method motionnet "
    "--model project/models/250101_120000_flow_tinymotionnet --out flow.tif"
)


def flow(
    video: Path = typer.Argument(..., help="Video file."),
    out: Path = typer.Option(..., "--out", "-o", help="Output TIFF (float32, (T-1, H, W, 2))."),
    method: str = typer.Option(None, help="dis (classical, fast) or motionnet (learned)."),
    model: Path = typer.Option(None, "--model", help="Trained MotionNet model directory."),
    preview: Path = typer.Option(None, "--preview", help="Also write a color-coded flow video."),
    size: int = typer.Option(None, "--size", help="Compute flow at size x size pixels."),
    dis_preset: str = typer.Option(None, help="DIS preset: ultrafast, fast or medium."),
    preset: str = typer.Option("fast", help="Settings preset the defaults come from."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Compute the optical flow of a video."""
    from pydantic import ValidationError

    from ethogram.cli.out_paths import check_output_file
    from ethogram.config import FlowSettings, load_settings

    check_output_file(out, "--out", f"{video.stem}_flow.tif")
    if preview is not None:
        check_output_file(preview, "--preview", f"{video.stem}_flow.mp4")

    settings = load_settings(preset).flow
    updates: dict = {}
    for key, value in (("method", method), ("size", size), ("dis_preset", dis_preset)):
        if value is not None:
            updates[key] = value
    if model is not None:
        updates["model_dir"] = str(model)
        updates.setdefault("method", "motionnet")
    try:
        settings = FlowSettings.model_validate({**settings.model_dump(), **updates})
    except ValidationError as exc:  # name the option that is wrong
        detail = "; ".join(
            f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']} "
            f"(got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ConfigError(detail) from None
    if settings.method == "motionnet" and model is None and not settings.model_dir:
        raise FlowError("--method motionnet needs --model DIR (a trained flow model directory)")
    shape = write_flow_tiff(video, out, settings, preview=preview, progress=progress)
    typer.echo(f"Wrote {out}: float32 {shape}, dx/dy in pixels per frame")
    if preview is not None:
        typer.echo(f"Wrote {preview}: color-coded flow (hue = direction, brightness = speed)")


def write_flow_tiff(
    video: Path,
    out: Path,
    settings: FlowSettings,
    preview: Path | None = None,
    progress: bool = True,
) -> tuple[int, int, int, int]:
    """Stream a video's flow into a TIFF (and optionally a preview video), atomically.

    Returns
    -------
    tuple
        Shape of the written stack ``(T-1, H, W, 2)``.
    """
    import contextlib

    import numpy as np
    import tifffile

    from ethogram.flow.api import iter_video_flow, resize_flow_array
    from ethogram.flow.preview import flow_to_rgb, robust_max_magnitude
    from ethogram.io.atomic import atomic_path
    from ethogram.io.video import VideoWriter, video_info

    info = video_info(video)
    height, width = info.height, info.width
    n_pairs = 0
    bigtiff = max(info.n_frames - 1, 1) * height * width * 8 > 2**31
    with contextlib.ExitStack() as stack:
        tif_tmp = stack.enter_context(atomic_path(out))
        tif = stack.enter_context(tifffile.TiffWriter(tif_tmp, bigtiff=bigtiff))
        # VideoWriter writes to a temporary name itself and renames only on success
        writer = stack.enter_context(VideoWriter(preview, info.fps)) if preview else None
        max_magnitude = None
        for _, chunk in iter_video_flow(video, settings, progress=progress):
            full = resize_flow_array(chunk, (height, width))  # (n, 2, H, W)
            for page in full.transpose(0, 2, 3, 1):
                tif.write(
                    np.ascontiguousarray(page),
                    contiguous=True,
                    photometric="minisblack",
                    planarconfig="contig",
                )
            if writer is not None:
                if max_magnitude is None:  # one color scale for the whole video
                    max_magnitude = robust_max_magnitude(full)
                writer.write(flow_to_rgb(full, max_magnitude))
            n_pairs += len(full)
    return (n_pairs, height, width, 2)


def register(app: typer.Typer) -> None:
    """Add the ``flow`` command to ``app``."""
    app.command(name="flow", help=HELP)(flow)
