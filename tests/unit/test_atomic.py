import os
import stat
from pathlib import Path

import pytest

from ethogram.io.atomic import _host_tag, atomic_path, atomic_write_text, remove_stale_temporaries


def test_atomic_write_replaces_and_uses_normal_permissions(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_failure_inside_block_leaves_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def _temporary(folder, name: str, pid: int, host: str | None = None):
    path = folder / f".{name}.{host or _host_tag()}-{pid}.k3j_a9x2.tmp{Path(name).suffix}"
    path.write_text("half written")
    return path


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    from tests.conftest import dead_pid

    stale = _temporary(tmp_path, "v_outputs.h5", dead_pid())
    other_file = _temporary(tmp_path, "w_outputs.h5", dead_pid())
    running = _temporary(tmp_path, "v_outputs.h5", 1)  # pid 1 always runs
    other_host = _temporary(tmp_path, "v_outputs.h5", dead_pid(), host="abcdef")
    atomic_write_text(tmp_path / "v_outputs.h5", "whole")
    assert not stale.exists()
    assert other_file.exists() and running.exists() and other_host.exists()
    assert remove_stale_temporaries(tmp_path) == [other_file]


def test_cache_written_again_removes_the_temporary_of_a_killed_writer(tmp_path):
    import numpy as np

    from ethogram.data.array_cache import ArrayCacheWriter, open_array_cache
    from tests.conftest import dead_pid

    data, meta = tmp_path / "rgb_k.raw", tmp_path / "rgb_k.json"
    stale = tmp_path / f".rgb_k.raw.{_host_tag()}-{dead_pid()}.tmp"
    stale.write_bytes(b"\x00" * 10)
    writer = ArrayCacheWriter(data, meta, {})
    writer.write(np.ones((2, 3), np.uint8))
    writer.close()
    assert not stale.exists()
    assert open_array_cache(data, meta).shape == (2, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rgb_k.json", "rgb_k.raw"]
