"""SimBA per-frame CSVs: its annotation files and its machine results.

Layouts (checked against SimBA's own project files and ``simba/model/inference_batch.py``):

* **annotations** (``project_folder/csv/targets_inserted/<video>.csv``): an unnamed index column
  (the frame), the pose columns (``Nose_1_x``, ``Nose_1_y``, ``Nose_1_p`` ...) and feature
  columns, then one 0/1 column per behavior.
* **machine results** (``project_folder/csv/machine_results/<video>.csv``): the same columns,
  then per classifier ``Probability_<behavior>`` (0-1) and ``<behavior>`` (0/1, the probability
  thresholded).

The file is named after its video. Read: a behavior column is one named by a
``Probability_<behavior>`` column, or else any column of only 0s and 1s that is not a pose
column; columns the project has no behavior for are other data and are ignored. Written: the
index column and one 0/1 column per behavior (``Probability_<behavior>`` before each, for
predictions with probabilities). SimBA has no "not labeled": unlabeled frames are written as 0.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ethogram.errors import LabelError
from ethogram.io.annotation import BACKGROUND, Annotation, LabelExport
from ethogram.io.atomic import atomic_path

FORMAT = "simba"
PROBABILITY_PREFIX = "Probability_"
POSE_SUFFIXES = ("_x", "_y", "_p")


def _read_frame(path: Path):
    import pandas as pd

    if not path.is_file():
        raise LabelError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise LabelError(
            f"{path}: the file is empty; expected a header row and a row per frame"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: not a readable CSV ({exc})") from None
    first = str(frame.columns[0]) if len(frame.columns) else ""
    if first == "" or first.startswith("Unnamed"):
        frame = frame.drop(columns=frame.columns[0])
    return frame


def _binary(column) -> bool:
    values = column.to_numpy()
    if values.dtype.kind not in "iuf":
        return False
    return bool(np.isin(values, (0, 1)).all())


def _check_binary(path: Path, frame, name: str) -> np.ndarray:
    import pandas as pd

    raw = frame[name]
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(numeric, (0, 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise LabelError(
            f"{path}, row {row + 2}, column {name!r}: expected 0 or 1, found {raw.iloc[row]!r}"
        )
    return numeric.astype(np.int8)


def read(path: str | Path) -> list[Annotation]:
    """Read a SimBA annotation or machine-results CSV.

    Parameters
    ----------
    path
        ``<video>.csv`` from ``targets_inserted/`` or ``machine_results/``.

    Returns
    -------
    list of Annotation
        One per-frame annotation, for the video the file is named after.

    Raises
    ------
    LabelError
        Naming the file, row and column of a behavior value that is not 0 or 1.
    """
    path = Path(path)
    frame = _read_frame(path)
    columns = [str(c) for c in frame.columns]
    named = [c[len(PROBABILITY_PREFIX) :] for c in columns if c.startswith(PROBABILITY_PREFIX)]
    invalid: dict[str, str] = {}
    if named:
        missing = [b for b in named if b not in columns]
        if missing:
            raise LabelError(
                f"{path}: has Probability_<behavior> columns but no 0/1 column for {missing}; "
                "expected both, as SimBA's machine results have"
            )
        behaviors, other_columns = named, False
        kind = "SimBA machine results"
    else:
        candidates = [c for c in columns if not c.endswith(POSE_SUFFIXES) and c != BACKGROUND]
        behaviors = [c for c in candidates if _binary(frame[c])]
        for name in candidates:
            if name not in behaviors:
                try:
                    _check_binary(path, frame, name)
                except LabelError as exc:
                    invalid[name] = str(exc)
        other_columns = True
        kind = "SimBA annotations"
    if not behaviors:
        raise LabelError(
            f"{path}: no behavior columns: expected columns of 0/1 per frame (or "
            f"Probability_<behavior> columns); found {columns[:12]}"
        )
    values = np.stack([_check_binary(path, frame, b) for b in behaviors], axis=1)
    return [
        Annotation(
            source=path,
            format=FORMAT,
            behaviors=behaviors,
            unit="frame",
            frames=values,
            other_columns=other_columns,
            invalid_columns=invalid,
            notes=[kind],
        )
    ]


def write(path: str | Path, export: LabelExport) -> Path:
    """Write one video's labels as a SimBA CSV (machine-results layout for predictions).

    Parameters
    ----------
    path
        ``<video>.csv`` (SimBA finds files by the video's name).
    export
        The video's labels, or predictions (with probabilities when known).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pandas as pd

    path = Path(path)
    columns: dict[str, np.ndarray] = {}
    for k, name in enumerate(export.behaviors):
        if name == BACKGROUND:
            continue
        if export.probabilities is not None:
            columns[f"{PROBABILITY_PREFIX}{name}"] = np.asarray(export.probabilities[:, k])
        columns[name] = (np.asarray(export.values[:, k]) == 1).astype(np.int8)
    frame = pd.DataFrame(columns)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp)
    return path


__all__ = ["read", "write"]
