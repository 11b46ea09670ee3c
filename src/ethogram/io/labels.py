"""DeepEthogram label and prediction CSVs: read, validate, write.

Layout: an unnamed integer index column (frame number), then one column per behavior with
``background`` first; values 1 (present), 0 (absent), -1 (not yet labeled). Background is 1 exactly
when no other behavior is (checked by :func:`check_background`, which the project uses when a user
edits labels; files written by other tools are read as they are).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ethogram.errors import LabelError
from ethogram.io.atomic import atomic_path

VALID_VALUES = (-1, 0, 1)


@dataclass
class LabelTable:
    """Per-frame labels of one video.

    Attributes
    ----------
    values
        int8 array (T, K): 1 present, 0 absent, -1 unlabeled.
    behaviors
        The K behavior names, ``background`` first.
    path
        The file the table was read from, if any.
    """

    values: np.ndarray
    behaviors: list[str]
    path: Path | None = field(default=None)

    @property
    def n_frames(self) -> int:
        """Number of frames (rows)."""
        return int(self.values.shape[0])

    @property
    def labeled_mask(self) -> np.ndarray:
        """Boolean (T,): frames with no -1 in any column."""
        return (self.values >= 0).all(axis=1)

    def to_dataframe(self):
        """Return the table as a pandas DataFrame (index = frame, one column per behavior)."""
        import pandas as pd

        return pd.DataFrame(self.values, columns=list(self.behaviors))


def _name(path: Path | None) -> str:
    return str(path) if path is not None else "labels"


def validate_values(
    values: np.ndarray,
    behaviors: list[str],
    path: Path | None = None,
    n_frames: int | None = None,
) -> np.ndarray:
    """Check a label array and return it as int8.

    Parameters
    ----------
    values
        Array (T, K).
    behaviors
        Behavior names; the first must be ``background``.
    path
        File the values came from (named in errors).
    n_frames
        Expected number of frames (the video's length), if known.

    Returns
    -------
    numpy.ndarray
        int8 array (T, K).
    """
    name = _name(path)
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise LabelError(
            f"{name}: expected a 2-D table (frames x behaviors), got shape {arr.shape}"
        )
    if arr.shape[1] != len(behaviors):
        raise LabelError(
            f"{name}: expected {len(behaviors)} behavior columns {behaviors}, found {arr.shape[1]}"
        )
    if not behaviors or behaviors[0] != "background":
        found = behaviors[0] if behaviors else "no columns"
        raise LabelError(f"{name}: the first behavior column must be 'background', found {found!r}")
    if len(set(behaviors)) != len(behaviors):
        dupes = sorted({b for b in behaviors if behaviors.count(b) > 1})
        raise LabelError(f"{name}: duplicate behavior columns {dupes}")
    if arr.dtype.kind == "f":
        nan_rows = np.flatnonzero(np.isnan(arr).any(axis=1))
        if nan_rows.size:
            raise LabelError(
                f"{name}: empty or NaN values at frame(s) {_frames(nan_rows)}; "
                "expected 1, 0 or -1 in every cell"
            )
        if not np.all(arr == np.round(arr)):
            bad = np.flatnonzero((arr != np.round(arr)).any(axis=1))
            raise LabelError(f"{name}: non-integer values at frame(s) {_frames(bad)}")
    bad_mask = ~np.isin(arr, VALID_VALUES)
    if bad_mask.any():
        rows, cols = np.nonzero(bad_mask)
        found = sorted({_fmt(v) for v in arr[bad_mask].ravel()[:5]})
        raise LabelError(
            f"{name}: values must be 1, 0 or -1; found {', '.join(found)} at frame {rows[0]} "
            f"column {behaviors[cols[0]]!r} ({int(bad_mask.sum())} bad cells)"
        )
    if n_frames is not None and arr.shape[0] != n_frames:
        raise LabelError(
            f"{name}: has {arr.shape[0]} rows but the video has {n_frames} frames; "
            "expected one row per frame"
        )
    return arr.astype(np.int8)


def _fmt(value) -> str:
    try:
        f = float(value)
        return str(int(f)) if f == int(f) else str(f)
    except (TypeError, ValueError):
        return repr(value)


def _frames(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:5])
    return shown + (f" and {rows.size - 5} more" if rows.size > 5 else "")


def read_header(path: str | Path) -> list[str]:
    """The behavior column names of a label CSV as written (after the index column).

    Raises
    ------
    LabelError
        If the file is missing, empty or unreadable, or names a column twice.
    """
    import csv

    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: label file not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            row = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelError(f"{path}: not a readable CSV ({exc})") from None
    if not row:
        raise LabelError(f"{path}: the file is empty; expected a header row and one row per frame")
    names = [str(c) for c in row[1:]]
    if "" in names:
        raise LabelError(
            f"{path}: column {names.index('') + 2} of the header has no name; expected a "
            "behavior name for every column after the index"
        )
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise LabelError(
            f"{path}: duplicate behavior column(s) {dupes}; expected one column per behavior"
        )
    return names


def _frame_order(index, path: Path) -> np.ndarray | None:
    """Row order that sorts the index column 0..N-1 (None if already sorted); else LabelError."""
    import pandas as pd

    n = len(index)
    numbers = pd.to_numeric(pd.Series(index), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise LabelError(
            f"{path}: the index column must hold frame numbers 0..{n - 1}; found "
            f"{index[row]!r} on line {row + 2}"
        )
    frames = numbers.astype(np.int64)
    if np.array_equal(frames, np.arange(n)):
        return None
    counts = np.bincount(frames[(frames >= 0) & (frames < n)], minlength=n)
    outside = frames[(frames < 0) | (frames >= n)]
    if outside.size or (counts != 1).any():
        if outside.size:
            found = f"frame {int(outside[0])} in a file of {n} rows"
        else:
            found = f"frame {int(np.flatnonzero(counts > 1)[0])} more than once"
        raise LabelError(
            f"{path}: the index column must number the frames 0..{n - 1}, each once (in any "
            f"order); found {found}"
        )
    return np.argsort(frames, kind="stable")


def read_labels(
    path: str | Path,
    behaviors: list[str] | None = None,
    n_frames: int | None = None,
) -> LabelTable:
    """Read and validate a DeepEthogram label (or prediction) CSV.

    Rows are placed by their index column (the frame number), so a file whose rows are in
    another order reads the same as a sorted one; an index that is not 0..N-1 (each frame
    once) is an error.

    Parameters
    ----------
    path
        The CSV file.
    behaviors
        Expected behavior names (order may differ in the file; columns are reordered to match).
        Missing or unknown columns are errors.
    n_frames
        Expected number of rows (the video's frame count).

    Returns
    -------
    LabelTable
        The validated labels.
    """
    path = Path(path)
    frame = _read_csv(path)
    columns = [str(c) for c in frame.columns]
    if behaviors is not None:
        missing = [b for b in behaviors if b not in columns]
        unknown = [c for c in columns if c not in behaviors]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing behavior column(s) {missing}")
            if unknown:
                parts.append(f"unknown behavior column(s) {unknown}")
            raise LabelError(f"{path}: {'; '.join(parts)}; expected columns {list(behaviors)}")
        frame = frame[list(behaviors)]
        columns = list(behaviors)
    values = _numeric_values(frame, path, columns)
    values = validate_values(values, columns, path, n_frames)
    return LabelTable(values=values, behaviors=columns, path=path)


def _read_csv(path: Path):
    """The CSV as a DataFrame, rows in frame order (by the index column), with at least one
    column and every column named once."""
    import pandas as pd

    header = read_header(path)  # the names as written: pandas would rename a duplicate
    try:
        frame = pd.read_csv(path, index_col=0)
    except pd.errors.EmptyDataError:
        raise LabelError(
            f"{path}: the file is empty; expected a header row and one row per frame"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: not a readable CSV ({exc})") from None
    if not len(frame.columns):
        raise LabelError(f"{path}: no behavior columns; expected 'background' and behaviors")
    if [str(c) for c in frame.columns] != header:
        raise LabelError(f"{path}: unreadable header {header}; expected one name per column")
    order = _frame_order(frame.index, path)
    return frame if order is None else frame.iloc[order]


def _numeric_values(frame, path: Path, columns: list[str]) -> np.ndarray:
    """The table's values as numbers; a cell that is not a number is an error naming it."""
    import pandas as pd

    values = frame.to_numpy()
    if values.dtype == object:
        numeric = frame.apply(pd.to_numeric, errors="coerce")
        bad = numeric.isna() & frame.notna()
        if bad.to_numpy().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            raise LabelError(
                f"{path}: values must be 1, 0 or -1; found {frame.iat[row, col]!r} at frame "
                f"{row} column {columns[col]!r}"
            )
        values = numeric.to_numpy(dtype=float)
    return values


def read_label_columns(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """Read a DeepEthogram-style CSV whose columns may lack ``background`` or be in any order.

    Parameters
    ----------
    path
        The CSV file: an index column (frame), then one column per behavior.

    Returns
    -------
    values, behaviors
        int8 array (T, K) of 1/0/-1 and the K column names as in the file.

    Raises
    ------
    LabelError
        Naming the file, frame and column of a value that is not 1, 0 or -1, or duplicate or
        missing columns.
    """
    path = Path(path)
    frame = _read_csv(path)
    columns = [str(c) for c in frame.columns]
    values = _numeric_values(frame, path, columns)
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise LabelError(f"{path}: duplicate behavior columns {dupes}")
    arr = np.asarray(values, dtype=float)
    bad = ~np.isin(arr, VALID_VALUES)  # NaN (an empty cell) is never in VALID_VALUES
    if bad.any():
        row, col = np.argwhere(bad)[0]
        found = "an empty cell" if np.isnan(arr[row, col]) else _fmt(arr[row, col])
        raise LabelError(
            f"{path}: values must be 1, 0 or -1; found {found} at frame {row} "
            f"column {columns[col]!r} ({int(bad.sum())} bad cells)"
        )
    return arr.astype(np.int8), columns


def check_background(values: np.ndarray, path: Path | None = None) -> None:
    """Raise LabelError unless background is 1 exactly when no other behavior is (labeled rows)."""
    arr = np.asarray(values)
    labeled = (arr >= 0).all(axis=1)
    expected = (arr[:, 1:] != 1).all(axis=1).astype(np.int8)
    wrong = np.flatnonzero(labeled & (arr[:, 0] != expected))
    if wrong.size:
        raise LabelError(
            f"{_name(path)}: background must be 1 exactly when no other behavior is; "
            f"violated at frame(s) {_frames(wrong)}"
        )


def fill_background(values: np.ndarray) -> np.ndarray:
    """Return a copy with background set to 1 exactly where no other behavior is 1.

    Rows where every behavior column is -1 stay unlabeled (-1).
    """
    arr = np.array(values, dtype=np.int8, copy=True)
    others = arr[:, 1:]
    unlabeled = (others == -1).all(axis=1) if others.shape[1] else np.zeros(len(arr), bool)
    arr[:, 0] = np.where((others == 1).any(axis=1), 0, 1)
    arr[unlabeled, 0] = -1
    return arr


def backup_path(path: Path) -> Path:
    """Where a backup of ``path`` goes before it is replaced: ``backups/<name>.<timestamp>``."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
    return path.parent / "backups" / f"{path.stem}.{stamp}{path.suffix}"


def write_labels(
    path: str | Path,
    values: np.ndarray,
    behaviors: list[str],
    backup: bool = True,
) -> Path | None:
    """Write a label CSV atomically, backing up any file it replaces.

    Parameters
    ----------
    path
        Destination CSV.
    values
        Array (T, K) with values in {1, 0, -1}.
    behaviors
        Column names, ``background`` first.
    backup
        Copy an existing file to ``backups/`` beside it before replacing it.

    Returns
    -------
    pathlib.Path or None
        The backup's path, if one was made.
    """
    import pandas as pd

    path = Path(path)
    arr = validate_values(values, list(behaviors), path)
    saved = None
    if backup and path.exists():
        saved = backup_path(path)
        saved.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, saved)
    frame = pd.DataFrame(arr, columns=list(behaviors))
    with atomic_path(path) as tmp:
        frame.to_csv(tmp)
    return saved


def read_annotations(path: str | Path) -> list:
    """Read a DeepEthogram label or prediction CSV as an import (format ``deepethogram``).

    The ``background`` column may be missing and the behaviors may be in any order: background
    is recomputed from the other columns when the labels are fitted to a project.

    Returns
    -------
    list of ethogram.io.annotation.Annotation
        One annotation of per-frame values.
    """
    from ethogram.io.annotation import Annotation

    path = Path(path)
    values, columns = read_label_columns(path)
    notes = [] if "background" in columns else ["no background column; it is computed"]
    return [
        Annotation(
            source=path,
            format="deepethogram",
            behaviors=columns,
            unit="frame",
            frames=values,
            notes=notes,
        )
    ]


def write_export(path: str | Path, export) -> Path:
    """Write a :class:`ethogram.io.annotation.LabelExport` as a DeepEthogram CSV (no backup)."""
    write_labels(path, export.values, list(export.behaviors), backup=False)
    return Path(path)


def empty_labels(n_frames: int, behaviors: list[str]) -> np.ndarray:
    """An all-unlabeled (-1) array for a video of ``n_frames`` frames."""
    return np.full((n_frames, len(behaviors)), -1, dtype=np.int8)
