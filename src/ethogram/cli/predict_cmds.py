"""The ``predict`` command: the whole chain on a project's videos or on new video files."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help

HELP = unwrap_help("""Predict behaviors in videos: flow, features, sequence model, post-processing.

Without VIDEO arguments every video of the project is predicted, and the files go to its folder
DATA/<video>/. VIDEO arguments may be video files, folders of videos, or names of project videos;
their files go beside each video, or to --out DIR.

For each video three files are written:

  <video>_predictions.csv   0/1 per frame and behavior, background first
                            (DeepEthogram's label format)

  <video>_bouts.csv         behavior, start/end frame, duration (frames, s)

  <video>_outputs.h5        features and probabilities (a group per model)

Videos already predicted by the same model are skipped (use --overwrite to redo them;
features already in <video>_outputs.h5 from the same feature extractor are reused, unless
--recompute-features). A video that cannot be read is reported and the others still finish;
the exit code is then 2.

The model is the project's newest sequence model (else its newest feature extractor), or --model.
Thresholds and minimum bout lengths come from the model.

With --executor slurm (or local) the videos are split into jobs of a submitit job array, at most
--jobs-at-once running together; SLURM options come from the project's cluster.* settings. A
video that fails is tried once more; the command waits with one progress bar (or returns at once
with --no-wait) and `ethogram status PROJECT` shows what is done, running and failed. Needs
submitit: pip install 'ethogram\\[cluster]'. See docs/cluster.md.

--runtime onnx runs the feature extractor with onnxruntime instead of torch: the same
predictions, faster (about 1.2 times end to end with the fast preset on 2 idle cores) and much
steadier on a busy machine (docs/cluster.md#the-cpu-runtime). The model is exported to
ONNX the first time (`ethogram export-model`). Needs pip install 'ethogram\\[onnx]'. The
default is the project's runtime setting (torch).
""")

EPILOG = """Examples:

  ethogram predict mice_project

  ethogram predict mice_project new_session.mp4 more_videos/ --out predictions/

  ethogram predict mice_project --model mice_project/models/250101_120000_sequence_tgmj --overwrite

  ethogram predict mice_project videos/ --executor slurm --jobs-at-once 8 --no-wait

  ethogram predict mice_project new_videos/ --runtime onnx
"""


def predict(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    videos: list[str] = typer.Argument(
        None, metavar="[VIDEO|DIR]...", help="Videos or folders (default: the project's videos)."
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the result files."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo videos already predicted."),
    recompute_features: bool = typer.Option(
        False, "--recompute-features", help="Extract features again even if already stored."
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="Model folder (path or name in PROJECT/models)."
    ),
    device: str = typer.Option(None, "--device", help="auto, cpu or cuda (default: the model's)."),
    executor: str = typer.Option(
        None,
        "--executor",
        help="Run as a submitit job array: slurm, or local (processes on this machine).",
    ),
    jobs_at_once: int = typer.Option(
        None, "--jobs-at-once", min=1, help="Jobs running at once (default: cluster.jobs_at_once)."
    ),
    no_wait: bool = typer.Option(
        False, "--no-wait", help="With --executor: return once the jobs are submitted."
    ),
    runtime: str = typer.Option(
        None,
        "--runtime",
        help="torch or onnx (onnxruntime; same predictions; default: the runtime setting).",
    ),
) -> None:
    from ethogram.infer.predict import predict as run_predict
    from ethogram.infer.predict import summary_line
    from ethogram.project import Project

    if executor is None and (jobs_at_once is not None or no_wait):
        raise typer.BadParameter("needs --executor local or slurm", param_hint="--jobs-at-once")
    project = Project.open(project_path)
    if executor is not None:
        from ethogram.infer.cluster import predict_on_cluster

        run_dir, results = predict_on_cluster(
            project,
            videos or None,
            executor=executor,
            out=out,
            overwrite=overwrite or recompute_features,
            model=model,
            device=device,
            recompute_features=recompute_features,
            runtime=runtime,
            jobs_at_once=jobs_at_once,
            wait=not no_wait,
        )
        if no_wait:
            typer.echo(f"Jobs submitted; records in {run_dir}")
            typer.echo(f"See their progress with: ethogram status {project_path}")
            return
    else:
        results = run_predict(
            project,
            videos or None,
            out=out,
            overwrite=overwrite or recompute_features,
            model=model,
            device=device,
            recompute_features=recompute_features,
            runtime=runtime,
        )
    for result in results:
        if result.status == "failed":
            typer.secho(f"failed: {result.target.video.name}: {result.reason}", fg="red", err=True)
    done = [r for r in results if r.status == "done"]
    if done:
        folders = sorted({str(r.target.out_dir) for r in done})
        shown = folders[0] if len(folders) == 1 else f"{len(folders)} folders"
        typer.echo(f"Predictions written to {shown}")
    typer.echo(summary_line(results))
    if any(r.status == "failed" for r in results):
        # SystemExit, not typer.Exit: the console entry point runs click with
        # standalone_mode=False, which turns typer.Exit into a return value (exit status 0)
        raise SystemExit(2)


predict.__doc__ = HELP


STATUS_HELP = unwrap_help("""Show what the cluster prediction runs of a project (`ethogram predict
--executor`) have done: per run, the videos done, running, queued and failed, with the reason of
each failure. Runs are kept in PROJECT/.ethogram/jobs/.
""")


def status(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    all_runs: bool = typer.Option(False, "--all", help="Every run, not only the latest."),
) -> None:
    from ethogram.infer.cluster_record import list_runs, run_status
    from ethogram.project import Project

    project = Project.open(project_path)
    runs = list_runs(project.root)
    if not runs:
        typer.echo(f"No cluster runs in {project.root} (ethogram predict PROJECT --executor ...)")
        return
    for run_dir in runs if all_runs else runs[-1:]:
        report = run_status(run_dir)
        typer.echo(report.summary())
        if report.running:
            typer.echo("  running: " + ", ".join(report.running))
        if report.queued:
            typer.echo("  queued: " + ", ".join(report.queued))
        for name, reason in report.failed.items():
            typer.secho(f"  failed: {name}: {reason}", fg="red")


status.__doc__ = STATUS_HELP


def register(app: typer.Typer) -> None:
    """Add the ``predict`` and ``status`` commands to ``app``."""
    app.command("predict", help=HELP, epilog=EPILOG)(predict)
    app.command("status", help=STATUS_HELP)(status)
