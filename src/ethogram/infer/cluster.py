"""Prediction as a submitit job array: on a SLURM cluster, or as local processes.

:func:`predict_on_cluster` splits the videos into jobs (at most ``jobs_at_once``), each running
:func:`ethogram.infer.predict.predict` on its share (:func:`run_share`), and keeps the bookkeeping
in a folder of the project (see :mod:`ethogram.infer.cluster_record`)::

    PROJECT/.ethogram/jobs/<timestamp>/
        run.json           the videos, the model, the settings, the jobs of each attempt
        videos/<i>.json    what became of video i (written by the job that predicted it)
        workers/<k>.json   job k of an attempt: host, process, running or ended
        submitit/          submitit's own files: pickled calls, job logs

A video that fails in its job is predicted once more by the same job; the videos of a job that
ended before finishing them (killed, out of time, node failure) are submitted once more as a
new job array, when the command waits (``wait=True``). Videos already predicted by the model are
skipped, as in local prediction, so running the same command again finishes what is left.

Examples
--------
>>> results = predict_on_cluster("mice_project", ["videos/"], executor="slurm")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ethogram.errors import ClusterError
from ethogram.infer import cluster_record as record
from ethogram.infer.predictor import VideoResult
from ethogram.infer.targets import VideoTarget

EXECUTORS = ("local", "slurm")
INSTALL_HINT = "pip install 'ethogram[cluster]' (or pip install submitit)"

__all__ = [
    "EXECUTORS",
    "ClusterRun",
    "make_executor",
    "predict_on_cluster",
    "run_share",
    "slurm_parameters",
    "split_shares",
]


def _submitit():
    try:
        import submitit
    except ImportError:
        raise ClusterError(f"--executor needs the submitit package: {INSTALL_HINT}") from None
    return submitit


def split_shares(indices: Sequence[int], jobs: int) -> list[list[int]]:
    """Split ``indices`` into at most ``jobs`` contiguous shares of nearly equal size.

    >>> split_shares(range(5), 2)
    [[0, 1, 2], [3, 4]]
    >>> split_shares([7], 3)
    [[7]]
    """
    items = list(indices)
    jobs = max(1, min(jobs, len(items)))
    size, extra = divmod(len(items), jobs)
    shares, start = [], 0
    for k in range(jobs):
        end = start + size + (k < extra)
        shares.append(items[start:end])
        start = end
    return [s for s in shares if s]


def _sbatch_parameters(lines: Sequence[str]) -> dict[str, Any]:
    """``extra_sbatch`` lines (``account=lab``, ``--qos=long``, ``exclusive``) as sbatch flags."""
    params: dict[str, Any] = {}
    for line in lines:
        text = line.removeprefix("#SBATCH").strip().removeprefix("--")
        key, sep, value = text.partition("=")
        params[key.strip()] = value.strip() if sep else True
    return params


def make_executor(kind: str, folder: str | Path, cluster, jobs_at_once: int):
    """A submitit executor for ``kind`` (``local`` or ``slurm``) with the ``cluster`` settings.

    Parameters
    ----------
    kind
        ``local`` (processes on this machine) or ``slurm`` (sbatch job arrays).
    folder
        Where submitit keeps its pickles and the job logs.
    cluster
        :class:`ethogram.config.ClusterSettings`: partition, time, GPUs, memory, sbatch lines.
    jobs_at_once
        Jobs allowed to run at the same time (SLURM's array parallelism).
    """
    if kind not in EXECUTORS:
        raise ClusterError(f"unknown executor {kind!r}, expected one of {list(EXECUTORS)}")
    submitit = _submitit()
    folder = Path(folder)
    if kind == "local":
        executor = submitit.LocalExecutor(folder)
        executor.update_parameters(timeout_min=cluster.time_min, gpus_per_node=cluster.gpus)
        return executor
    try:
        executor = submitit.SlurmExecutor(folder)
    except RuntimeError as exc:  # submitit checks for srun
        raise ClusterError(
            f"--executor slurm: {exc} (run on a SLURM login node, or use --executor local)"
        ) from None
    executor.update_parameters(**slurm_parameters(cluster, jobs_at_once))
    return executor


def slurm_parameters(cluster, jobs_at_once: int) -> dict[str, Any]:
    """submitit's SLURM parameters from the ``cluster`` settings.

    >>> from ethogram.config import ClusterSettings
    >>> params = slurm_parameters(ClusterSettings(partition="gpu", gpus=1), jobs_at_once=2)
    >>> params["partition"], params["gpus_per_node"], params["mem"], params["array_parallelism"]
    ('gpu', 1, '8192M', 2)
    """
    params: dict[str, Any] = {
        "job_name": "ethogram-predict",
        "time": cluster.time_min,
        "cpus_per_task": cluster.cpus,
        "mem": f"{int(round(cluster.mem_gb * 1024))}M",
        "array_parallelism": jobs_at_once,
    }
    if cluster.partition:
        params["partition"] = cluster.partition
    if cluster.gpus:
        params["gpus_per_node"] = cluster.gpus
    extra = _sbatch_parameters(cluster.extra_sbatch)
    if extra:
        params["additional_parameters"] = extra
    return params


def _threads(kind: str, cluster, jobs_at_once: int) -> int:
    """Torch threads per job: the job's CPUs on SLURM, this machine's cores shared locally."""
    if kind == "slurm":
        return cluster.cpus
    return max(1, (os.cpu_count() or 1) // max(1, jobs_at_once))


# ---- inside a job -----------------------------------------------------------------------------
def run_share(run_dir: str, indices: list[int], attempt: int, worker: str) -> list[str]:
    """Predict the videos ``indices`` of the run in ``run_dir`` (called inside a job).

    Each video's result is recorded as soon as it is known; a failed video is predicted once
    more (unless this is already the last attempt). Returns the final statuses, in order.
    """
    run_path = Path(run_dir)
    run = record.read_run(run_path)
    record.write_worker(run_path, worker, "running", indices, attempt)
    try:
        threads = run.get("threads")
        if threads:
            import torch

            torch.set_num_threads(int(threads))
        statuses = _predict_indices(run_path, run, indices, attempt)
    finally:
        record.write_worker(run_path, worker, "ended", indices, attempt)
    return statuses


def _key(target: VideoTarget) -> tuple[str, str, str]:
    return (str(target.video), str(target.out_dir), target.stem)


def _recorder(run_path: Path, index_of: dict, attempt: int, final: dict[int, str]):
    """An ``on_result`` callback: record each video's result as the job's ``attempt``."""

    def on_result(result: VideoResult) -> None:
        i = index_of[_key(result.target)]
        record.write_video(run_path, i, result, attempt)
        final[i] = result.status

    return on_result


def _predict_indices(run_path: Path, run: dict, indices: list[int], attempt: int) -> list[str]:
    from ethogram.infer.predict import predict

    final: dict[int, str] = {}
    todo = list(indices)
    while todo:
        targets = [record.target_of(run, i) for i in todo]
        index_of = {_key(t): i for t, i in zip(targets, todo, strict=True)}
        predict(
            run["project"],
            targets=targets,
            overwrite=bool(run.get("overwrite")),
            model=run["model_dir"],
            progress=False,
            device=run.get("device"),
            recompute_features=bool(run.get("recompute_features")),
            runtime=run.get("runtime"),
            on_result=_recorder(run_path, index_of, attempt, final),
        )
        if attempt >= record.MAX_ATTEMPTS:
            break
        todo = [i for i in todo if final.get(i) == "failed"]
        attempt += 1
    return [final.get(i, "failed") for i in indices]


# ---- the submitting side ----------------------------------------------------------------------
class ClusterRun:
    """A submitted run: its folder, its executor and the jobs of its latest attempt."""

    def __init__(self, run_dir: Path, executor, jobs: list) -> None:
        self.run_dir, self.executor, self.jobs = run_dir, executor, jobs

    @property
    def job_ids(self) -> list[str]:
        """The submitit job ids of the latest attempt (process ids for the local executor)."""
        return [str(job.job_id) for job in self.jobs]

    def submit(self, indices: Sequence[int], attempt: int, jobs_at_once: int) -> None:
        """Submit ``indices`` as one job array (attempt ``attempt``) and record its jobs."""
        shares = split_shares(indices, jobs_at_once)
        workers = [f"{attempt}-{k}" for k in range(len(shares))]
        with self.executor.batch():
            jobs = [
                self.executor.submit(run_share, str(self.run_dir), share, attempt, worker)
                for share, worker in zip(shares, workers, strict=True)
            ]
        self.jobs = jobs
        record.add_attempt(
            self.run_dir,
            attempt,
            [
                {"job_id": str(job.job_id), "worker": worker, "videos": share}
                for job, worker, share in zip(jobs, workers, shares, strict=True)
            ],
        )

    def jobs_ended(self) -> bool:
        """True when every job of the latest attempt has ended (finished, failed or killed)."""
        return all(job.done() for job in self.jobs)


def predict_on_cluster(
    project,
    paths: Sequence[str | Path] | None = None,
    executor: str = "local",
    out: str | Path | None = None,
    overwrite: bool = False,
    model: str | Path | None = None,
    device: str | None = None,
    recompute_features: bool = False,
    runtime: str | None = None,
    jobs_at_once: int | None = None,
    wait: bool = True,
    progress: bool = True,
    poll_s: float = 0.5,
    submitit_executor=None,
) -> tuple[Path, list[VideoResult]]:
    """Predict videos with a submitit job array; the same chain as :func:`predict`.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project` or its folder (the bookkeeping goes under it).
    paths, out, overwrite, model, device, recompute_features, runtime
        As for :func:`ethogram.infer.predict.predict`. With the ONNX runtime the model is
        exported (if needed) before the jobs start, so that they do not all export it.
    executor
        ``local`` (processes on this machine) or ``slurm``.
    jobs_at_once
        Jobs running at once; the videos are split into this many jobs (default: the
        project's ``cluster.jobs_at_once`` setting).
    wait
        Wait for the jobs with one progress bar over all videos, submitting once more the videos
        of jobs that ended before finishing them. False returns once the jobs are submitted.
    progress
        Show the progress bar while waiting.
    poll_s
        Seconds between looks at the jobs while waiting.
    submitit_executor
        A submitit executor to use instead of one made from the settings.

    Returns
    -------
    run_dir, results
        The run's bookkeeping folder and, when waiting, one result per video (status ``done``,
        ``skipped`` or ``failed`` with its reason); without waiting, an empty list.
    """
    from ethogram.infer.predictor import resolve_model_dir
    from ethogram.infer.targets import collect_targets
    from ethogram.project import Project

    if not isinstance(project, Project):
        project = Project.open(project)
    settings = project.settings().cluster
    jobs_at_once = jobs_at_once or settings.jobs_at_once
    if submitit_executor is None:
        _submitit()  # say how to install it before anything is written
    model_dir = resolve_model_dir(project, model)
    runtime = runtime or project.settings().runtime
    if runtime == "onnx":
        from ethogram.infer.onnx_runtime import check_runtime, ensure_export
        from ethogram.infer.predictor import Predictor

        check_runtime(runtime)
        ensure_export(Predictor(model_dir, device="cpu").feature_model_dir)
    targets = collect_targets(project, paths, out)
    run_dir = record.new_run(
        project.root,
        {
            "executor": executor,
            "project": str(project.root),
            "model_dir": str(model_dir),
            "overwrite": overwrite,
            "recompute_features": recompute_features,
            "device": device,
            "runtime": runtime,
            "jobs_at_once": jobs_at_once,
            "threads": _threads(executor, settings, jobs_at_once),
            "videos": [
                {"video": str(t.video), "out_dir": str(t.out_dir), "stem": t.stem} for t in targets
            ],
        },
    )
    if submitit_executor is None:
        submitit_executor = make_executor(executor, run_dir / "submitit", settings, jobs_at_once)
    run = ClusterRun(run_dir, submitit_executor, [])
    run.submit(range(len(targets)), 1, jobs_at_once)
    if not wait:
        return run_dir, []
    return run_dir, wait_for(run, targets, jobs_at_once, progress, poll_s)


def wait_for(
    run: ClusterRun,
    targets: Sequence[VideoTarget],
    jobs_at_once: int,
    progress: bool = True,
    poll_s: float = 0.5,
) -> list[VideoResult]:
    """Wait for a run's jobs with one progress bar; resubmit once what their jobs left undone."""
    from ethogram.progress import progress_bar

    shown = 0
    with progress_bar(len(targets), "predict", progress) as bar:
        while True:
            ended = run.jobs_ended()  # before reading the videos: a job writes, then ends
            states = record.video_states(run.run_dir)
            finished = [i for i, s in states.items() if record.is_final(s)]
            if len(finished) > shown:
                bar.advance(len(finished) - shown)
                shown = len(finished)
                bar.status(f"{shown}/{len(targets)} videos")
            if len(finished) == len(targets):
                break  # every result is recorded; the jobs' processes only have to exit
            if ended:
                left = [i for i in range(len(targets)) if i not in finished]
                attempt = record.latest_attempt(run.run_dir)
                if left and attempt < record.MAX_ATTEMPTS:
                    run.submit(left, attempt + 1, jobs_at_once)
                    continue
                for i in left:
                    record.write_video_lost(run.run_dir, i, attempt)
                break
            time.sleep(poll_s)
    record.mark_finished(run.run_dir)
    states = record.video_states(run.run_dir)
    return [record.result_of(targets[i], states.get(i)) for i in range(len(targets))]
