"""The feature store ``<stem>_outputs.h5`` (DeepEthogram's layout): read, list, write groups.

One HDF5 group per model, named after it (``resnet18`` for a feature extractor, ``tgmj`` for a
sequence model), each with datasets::

    P                 (T, K) float32   per-frame probabilities
    logits            (T, K) float32
    thresholds        (K,)   float32   per-class thresholds chosen on validation data
    class_names       (K,)   strings   background first
    spatial_features  (T, F) float32   feature extractor only
    flow_features     (T, F) float32   feature extractor only

Group attributes carry provenance (``model_dir``, ...). Files written by DeepEthogram read as they
are; files written here open in DeepEthogram.

Writes are atomic and keep every other group: :func:`write_group` builds a new file beside the old
one (copying the other groups), then renames it into place, so an interrupted write leaves the old
file intact. This module imports neither torch nor Qt.

Examples
--------
>>> write_group("vid_outputs.h5", "tgmj", {"P": probs, "class_names": names})  # doctest: +SKIP
>>> read_outputs("vid_outputs.h5", "tgmj")["P"].shape  # doctest: +SKIP
(600, 4)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import EthogramError
from ethogram.io.atomic import atomic_path

STRING_DATASETS = ("class_names",)
ATTRS_KEY = "attrs"
# file attribute: the model folder that wrote the <stem>_predictions.csv beside this file
PREDICTIONS_ATTR = "predictions_model_dir"


class OutputsError(EthogramError):
    """An outputs file is missing, unreadable, or lacks an expected group or dataset."""


def _open(path: Path, mode: str = "r"):
    import h5py

    if mode == "r" and not path.is_file():
        raise OutputsError(f"{path}: outputs file not found")
    try:
        return h5py.File(path, mode)
    except OSError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OutputsError(f"{path}: not a readable HDF5 outputs file ({detail})") from None


def _decode(value: Any) -> Any:
    """HDF5 values to plain Python/numpy: byte strings to str, object arrays to lists of str."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OSU":
        return [_decode(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def list_groups(path: str | Path) -> list[str]:
    """Names of the model groups in an outputs file (sorted).

    Parameters
    ----------
    path
        ``<stem>_outputs.h5``.

    Returns
    -------
    list of str
        Group names, e.g. ``["resnet18", "tgmj"]``; ``[]`` if the file does not exist.
    """
    import h5py

    path = Path(path)
    if not path.exists():
        return []
    with _open(path) as f:
        return sorted(k for k in f.keys() if isinstance(f[k], h5py.Group))


def _read_group(f, path: Path, group: str, datasets: Iterable[str] | None) -> dict[str, Any]:
    import h5py

    if group not in f or not isinstance(f[group], h5py.Group):
        found = sorted(f.keys())
        raise OutputsError(f"{path}: no group {group!r} in the outputs file; found {found}")
    g = f[group]
    names = list(g.keys()) if datasets is None else list(datasets)
    out: dict[str, Any] = {}
    for name in names:
        if name not in g:
            raise OutputsError(
                f"{path}: group {group!r} has no dataset {name!r}; found {sorted(g.keys())}"
            )
        value = g[name][()]
        out[name] = _decode(value) if name in STRING_DATASETS else value
    out[ATTRS_KEY] = {k: _decode(v) for k, v in g.attrs.items()}
    return out


def read_outputs(
    path: str | Path,
    group: str | None = None,
    datasets: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Read one model group (or all groups) of an outputs file into memory.

    Parameters
    ----------
    path
        ``<stem>_outputs.h5``.
    group
        Group to read, e.g. ``"tgmj"``. ``None`` reads every group.
    datasets
        Only these datasets of the group (default: all). Useful to skip large features.

    Returns
    -------
    dict
        With ``group``: dataset name -> numpy array (``class_names`` as a list of str), plus
        ``"attrs"``: the group's attributes. Without ``group``: group name -> such a dict.

    Raises
    ------
    OutputsError
        If the file is missing or unreadable, or lacks the group or a requested dataset.
    """
    path = Path(path)
    with _open(path) as f:
        if group is not None:
            return _read_group(f, path, group, datasets)
        import h5py

        return {
            name: _read_group(f, path, name, datasets)
            for name in sorted(f.keys())
            if isinstance(f[name], h5py.Group)
        }


def _check_datasets(path: Path, group: str, datasets: Mapping[str, Any]) -> dict[str, Any]:
    if not group or "/" in group:
        raise OutputsError(
            f"{path}: group name must be a non-empty name without '/', got {group!r}"
        )
    arrays: dict[str, Any] = {}
    for name, value in datasets.items():
        if name in STRING_DATASETS:
            arrays[name] = [str(v) for v in value]
        else:
            arrays[name] = np.asarray(value)
    n_rows = {n: a.shape[0] for n, a in arrays.items() if n in ("P", "logits") and a.ndim == 2}
    if len(set(n_rows.values())) > 1:
        raise OutputsError(
            f"{path}: group {group!r}: datasets have different frame counts {n_rows}"
        )
    if "class_names" in arrays:
        k = len(arrays["class_names"])
        for name in ("P", "logits", "thresholds"):
            if name in arrays and arrays[name].shape[-1] != k:
                raise OutputsError(
                    f"{path}: group {group!r}: {name} has {arrays[name].shape[-1]} columns, "
                    f"expected {k} (one per class {arrays['class_names']})"
                )
    return arrays


def _attr_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Path):
        return str(value)
    return value


@contextlib.contextmanager
def _rewrite(
    path: Path, drop_group: str | None = None, file_attrs: Mapping[str, Any] | None = None
):
    """Yield a new HDF5 file holding the old file's attributes and groups (but ``drop_group``),
    renamed onto ``path`` when the block succeeds."""
    import h5py

    old = _open(path) if path.exists() else None
    try:
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as new:
            if old is not None:
                for key, value in old.attrs.items():
                    new.attrs[key] = value
                for name in old.keys():
                    if name != drop_group:
                        old.copy(old[name], new, name=name)
            for key, value in (file_attrs or {}).items():
                new.attrs[key] = _attr_value(value)
            yield new
    finally:
        if old is not None:
            old.close()


def write_group(
    path: str | Path,
    group: str,
    datasets: Mapping[str, Any],
    attrs: Mapping[str, Any] | None = None,
    file_attrs: Mapping[str, Any] | None = None,
) -> Path:
    """Write (or replace) one model group of an outputs file atomically, keeping the others.

    Parameters
    ----------
    path
        ``<stem>_outputs.h5`` (created if missing).
    group
        Group name, e.g. ``"resnet18"`` or ``"tgmj"``.
    datasets
        Dataset name -> array. ``class_names`` may be a list of str. Float arrays are stored as
        they are given (pass float32 for DeepEthogram's layout).
    attrs
        Group attributes, e.g. ``{"model_dir": "..."}`` (None values are stored as "").
    file_attrs
        Attributes of the file itself to set at the same time (others are kept).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputsError
        If the existing file is unreadable, or datasets disagree on frame or class counts.
    """
    import h5py

    path = Path(path)
    arrays = _check_datasets(path, group, datasets)
    with _rewrite(path, group, file_attrs) as new:
        g = new.create_group(group)
        for name, value in arrays.items():
            if name in STRING_DATASETS:
                g.create_dataset(
                    name, data=np.array(value, dtype=object), dtype=h5py.string_dtype()
                )
            else:
                g.create_dataset(name, data=value)
        for key, value in (attrs or {}).items():
            g.attrs[key] = _attr_value(value)
    return path


def delete_group(path: str | Path, group: str) -> bool:
    """Remove one group from an outputs file atomically; return False if it was not there."""
    path = Path(path)
    if group not in list_groups(path):
        return False
    with _rewrite(path, group):
        pass
    return True


def read_file_attrs(path: str | Path) -> dict[str, Any]:
    """Attributes of the outputs file itself ({} if the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return {}
    with _open(path) as f:
        return {k: _decode(v) for k, v in f.attrs.items()}


def set_file_attrs(path: str | Path, attrs: Mapping[str, Any]) -> Path:
    """Set attributes of the outputs file itself, atomically, keeping everything else."""
    path = Path(path)
    with _rewrite(path, None, attrs):
        pass
    return path


def group_info(path: str | Path) -> dict[str, dict[str, Any]]:
    """Without loading arrays: group -> {"datasets": {name: shape}, "attrs": {...}}."""
    import h5py

    path = Path(path)
    if not path.exists():
        return {}
    out: dict[str, dict[str, Any]] = {}
    with _open(path) as f:
        for name in sorted(f.keys()):
            g = f[name]
            if not isinstance(g, h5py.Group):
                continue
            out[name] = {
                "datasets": {
                    k: tuple(v.shape) for k, v in g.items() if isinstance(v, h5py.Dataset)
                },
                ATTRS_KEY: {k: _decode(v) for k, v in g.attrs.items()},
            }
    return out


def find_group(
    path: str | Path,
    model_dir: str | Path | None = None,
    required: Iterable[str] = ("P",),
) -> str | None:
    """The group written by ``model_dir`` (by its ``model_dir`` attribute), else None.

    Without ``model_dir``: the first group (sorted) that has every ``required`` dataset.
    Paths are compared resolved, and by folder name as a fallback (projects move between
    machines, as DeepEthogram's do).
    """
    info = group_info(path)
    required = list(required)
    candidates = [g for g, i in info.items() if all(r in i["datasets"] for r in required)]
    if model_dir is None:
        return candidates[0] if candidates else None
    target = Path(model_dir)
    for name in candidates:
        stored = str(info[name][ATTRS_KEY].get("model_dir") or "")
        if stored and Path(stored).resolve() == target.resolve():
            return name
    for name in candidates:
        stored = str(info[name][ATTRS_KEY].get("model_dir") or "")
        if stored and Path(stored).name == target.name:
            return name
    return None


__all__ = [
    "OutputsError",
    "delete_group",
    "find_group",
    "group_info",
    "list_groups",
    "read_file_attrs",
    "read_outputs",
    "set_file_attrs",
    "write_group",
]
