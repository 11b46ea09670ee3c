"""``ethogram sample``: write synthetic videos with known behaviors, for trying things out."""

from __future__ import annotations

from pathlib import Path

import typer


def sample(
    outdir: Path = typer.Argument(
        ..., metavar="OUTDIR", help="Folder to write videos/ and labels/ in."
    ),
    videos: int = typer.Option(4, "--videos", "-n", min=1, help="Number of videos."),
    frames: int = typer.Option(1800, "--frames", "-f", min=1, help="Frames per video."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed (same seed, same files)."),
    size: int = typer.Option(128, "--size", help="Frame width and height in pixels (even, >= 32)."),
    fps: float | None = typer.Option(
        None, "--fps", help="Frame rate (default: the style's; 30 for most styles)."
    ),
    style: str = typer.Option(
        "default",
        "--style",
        help="Appearance: default, dark-on-light, white-mouse, bedding, dim, infrared, "
        "far-camera, close-camera, big-animal, noisy, blurry, compressed, fps15, white-rat, ... "
        "(see docs/sample.md); 'random' (a look drawn from --seed), 'random-N', or names joined "
        "by '+'. The behaviors and labels are exact in every style.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing sample files."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Write synthetic videos of a top-down mouse in an arena, with exact per-frame labels.

    Behaviors: background (rest, sitting, slow exploring), locomotion, grooming, turning, rearing.

    Writes OUTDIR/videos/sample_000.mp4, ... and OUTDIR/labels/sample_000_labels.csv, ...

    Example: ethogram sample demo --videos 4 --frames 1800 --seed 0

    Then: ethogram new demo/project --behaviors locomotion,grooming,turning,rearing

    and: ethogram add demo/project demo/videos/*.mp4
    """
    import contextlib

    from rich.table import Table

    from ethogram.cli.console import output_console
    from ethogram.io.labels import read_labels
    from ethogram.progress import progress_bar
    from ethogram.sample import SAMPLE_BEHAVIORS, get_style, make_sample

    look = get_style(style, seed)

    total = videos * frames
    with contextlib.ExitStack() as stack:
        state: dict = {"done": 0, "advance": None}

        def on_progress(done: int, _total: int) -> None:
            if quiet:
                return
            if state["advance"] is None:  # opened lazily: no bar when the arguments are rejected
                state["advance"] = stack.enter_context(progress_bar(total, "rendering"))
            state["advance"](done - state["done"])
            state["done"] = done

        written = make_sample(outdir, videos, frames, seed=seed, size=size, fps=fps,
                              overwrite=overwrite, progress=on_progress, style=look)  # fmt: skip

    console = output_console()
    rate = fps if fps is not None else (look.fps or 30.0)
    console.print(
        f"Wrote {len(written)} videos ({frames} frames, {size}x{size} px, {rate:g} fps, "
        f"style {look.name}: {look.description}):",
        soft_wrap=True,
    )
    for video in written:
        console.print(f"  {video.video_path}  {video.labels_path}", soft_wrap=True)
    table = Table(title="Frames per behavior")
    table.add_column("video")
    for behavior in SAMPLE_BEHAVIORS:
        table.add_column(behavior, justify="right")
    totals = [0] * len(SAMPLE_BEHAVIORS)
    for video in written:
        counts = (read_labels(video.labels_path).values == 1).sum(axis=0)
        totals = [t + int(c) for t, c in zip(totals, counts, strict=True)]
        table.add_row(video.stem, *map(str, counts))
    table.add_row("total", *(f"{t} ({t / total:.0%})" for t in totals))
    console.print(table)
    project = outdir / "project"
    console.print(
        f"Next: ethogram new {project} --behaviors {','.join(SAMPLE_BEHAVIORS[1:])}\n"
        f"      ethogram add {project} {outdir / 'videos'}/*.mp4",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add the ``sample`` command to ``app``."""
    app.command()(sample)
