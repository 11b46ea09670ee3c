"""Arrays cached on disk beside a video: raw bytes plus a JSON description, never half-written.

A cache is ``<video folder>/.cache/<kind>_<key>.raw`` (the rows of one array, C order) and
``<kind>_<key>.json`` (shape, dtype and whatever the writer adds). :class:`ArrayCacheWriter`
appends rows to a temporary file, renames it when done and writes the description last, so a
cache whose description exists is complete; :func:`open_array_cache` opens it as a read-only
memmap (long videos never have to fit in memory) and returns None for anything missing,
partial or inconsistent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.io.atomic import atomic_write_text, remove_stale_temporaries, temporary_prefix

CACHE_DIR = ".cache"

__all__ = ["CACHE_DIR", "ArrayCacheWriter", "cache_paths", "clear_cache", "open_array_cache"]


def cache_paths(video_path: Path, kind: str, key: str) -> tuple[Path, Path]:
    """``<video folder>/.cache/<kind>_<key>.raw`` and its ``.json`` description."""
    folder = video_path.parent / CACHE_DIR
    return folder / f"{kind}_{key}.raw", folder / f"{kind}_{key}.json"


def open_array_cache(data_path: Path, meta_path: Path) -> np.ndarray | None:
    """A complete cache as a read-only memmap, or None (missing, partial or inconsistent)."""
    if not meta_path.is_file() or not data_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        shape = tuple(int(s) for s in meta["shape"])
        dtype = np.dtype(meta["dtype"])
    except (ValueError, KeyError, TypeError):
        return None
    if data_path.stat().st_size != int(np.prod(shape)) * dtype.itemsize:
        return None
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype)
    return np.memmap(data_path, dtype=dtype, mode="r", shape=shape)


class ArrayCacheWriter:
    """Append arrays to ``<name>.raw.tmp``; on close rename it and write the JSON sidecar."""

    def __init__(self, data_path: Path, meta_path: Path, meta: dict[str, Any]):
        self.data_path, self.meta_path, self.meta = data_path, meta_path, meta
        data_path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(data_path.parent, data_path.name)  # left by a killed writer
        self.tmp = data_path.with_name(temporary_prefix(data_path.name) + "tmp")
        self.file = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        self.rows = 0
        self.item_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None

    def write(self, array: np.ndarray) -> None:
        if not len(array):
            return
        self.item_shape = tuple(array.shape[1:])
        self.dtype = array.dtype
        self.file.write(np.ascontiguousarray(array).tobytes())
        self.rows += len(array)

    def close(self) -> None:
        self.file.close()
        os.replace(self.tmp, self.data_path)
        meta = dict(self.meta, shape=[self.rows, *self.item_shape], dtype=str(self.dtype))
        atomic_write_text(self.meta_path, json.dumps(meta, indent=1))

    def abort(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)


def clear_cache(video_folder: str | Path) -> int:
    """Delete the preprocessing caches of a video folder; return the number of files removed."""
    folder = Path(video_folder) / CACHE_DIR
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if path.suffix in (".raw", ".json", ".tmp"):
            path.unlink()
            removed += 1
    return removed
