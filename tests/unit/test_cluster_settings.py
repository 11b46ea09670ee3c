"""Cluster settings: validation, and the sbatch script submitit writes from them."""

from __future__ import annotations

import pytest

from ethogram.config import load_settings
from ethogram.errors import ConfigError
from ethogram.infer.cluster import slurm_parameters, split_shares


def test_cluster_settings_have_defaults_and_refuse_bad_values():
    cluster = load_settings("fast").cluster
    assert cluster.partition is None and cluster.gpus == 0 and cluster.extra_sbatch == []
    with pytest.raises(ConfigError, match="cluster.time_min"):
        load_settings("fast", overrides=["cluster.time_min=0"])
    with pytest.raises(ConfigError, match="cluster.extra_sbatch"):
        load_settings("fast", overrides=["cluster.extra_sbatch=['bad key=1']"])


def test_slurm_script_carries_partition_time_gpus_memory_and_extra_lines(tmp_path):
    slurm = pytest.importorskip("submitit.slurm.slurm")
    overrides = [
        "cluster.partition=gpu",
        "cluster.time_min=90",
        "cluster.gpus=1",
        "cluster.mem_gb=16",
        "cluster.extra_sbatch=['account=lab', '--qos=long', 'exclusive']",
    ]
    cluster = load_settings("fast", overrides=overrides).cluster
    params = slurm_parameters(cluster, jobs_at_once=3)
    text = slurm._make_sbatch_string(command="python job.py", folder=tmp_path, **params)
    lines = text.splitlines()
    for expected in (
        "#SBATCH --partition=gpu",
        "#SBATCH --time=90",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --mem=16384M",
        "#SBATCH --account=lab",
        "#SBATCH --qos=long",
        "#SBATCH --exclusive",
    ):
        assert expected in lines, expected


def test_videos_are_split_into_at_most_jobs_at_once_contiguous_shares():
    assert split_shares(range(6), 2) == [[0, 1, 2], [3, 4, 5]]
    assert split_shares(range(5), 3) == [[0, 1], [2, 3], [4]]
    assert split_shares(range(2), 4) == [[0], [1]]
