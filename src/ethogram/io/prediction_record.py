"""Which model wrote a video's prediction CSVs, and whether they are still whole.

``ethogram predict`` writes ``<stem>_predictions.csv`` and ``<stem>_bouts.csv``, then, last, a
record in the attributes of ``<stem>_outputs.h5`` beside them: the model folder, the number of
frames and a SHA-256 digest of each CSV. A video counts as predicted by a model only when the
record names that model and both CSVs match their digests, so a run killed between two writes,
or a CSV cut short or changed since, is predicted again. This module imports neither torch nor Qt.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ethogram.io.outputs import PREDICTIONS_ATTR, group_info, read_file_attrs

N_FRAMES_ATTR = "predictions_n_frames"
PREDICTIONS_DIGEST_ATTR = "predictions_sha256"
BOUTS_DIGEST_ATTR = "bouts_sha256"
RECORD_ATTRS = (PREDICTIONS_ATTR, N_FRAMES_ATTR, PREDICTIONS_DIGEST_ATTR, BOUTS_DIGEST_ATTR)

__all__ = [
    "RECORD_ATTRS",
    "file_digest",
    "make_record",
    "why_not_current",
]


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_record(
    model_dir: str | Path, n_frames: int, predictions_path: Path, bouts_path: Path
) -> dict[str, Any]:
    """The file attributes recording that ``model_dir`` wrote these two CSVs whole."""
    return {
        PREDICTIONS_ATTR: str(model_dir),
        N_FRAMES_ATTR: int(n_frames),
        PREDICTIONS_DIGEST_ATTR: file_digest(predictions_path),
        BOUTS_DIGEST_ATTR: file_digest(bouts_path),
    }


def why_not_current(
    outputs_path: Path,
    predictions_path: Path,
    bouts_path: Path,
    model_dir: str | Path,
    group: str | None = None,
) -> str | None:
    """Why the CSVs are not a whole prediction of ``model_dir``, or None if they are.

    Parameters
    ----------
    outputs_path, predictions_path, bouts_path
        A video's three files.
    model_dir
        The model that should have written them (compared by folder name: projects move).
    group
        The model's group in the outputs file, if it has one: its probabilities must have the
        recorded number of frames.
    """
    for path in (predictions_path, bouts_path, outputs_path):
        if not path.is_file():
            return f"{path.name} is missing"
    record = read_file_attrs(outputs_path)
    written_by = str(record.get(PREDICTIONS_ATTR) or "")
    if not written_by:
        return f"{outputs_path.name} records no finished prediction"
    if Path(written_by).name != Path(model_dir).name:
        return f"written by another model ({Path(written_by).name})"
    digests = ((predictions_path, PREDICTIONS_DIGEST_ATTR), (bouts_path, BOUTS_DIGEST_ATTR))
    for path, attr in digests:
        if str(record.get(attr) or "") != file_digest(path):
            return f"{path.name} is not the file the model wrote (cut short or changed since)"
    if group is not None:
        shape = group_info(outputs_path).get(group, {}).get("datasets", {}).get("P")
        if shape is None or shape[0] != record.get(N_FRAMES_ATTR):
            return f"{outputs_path.name} holds no probabilities of the recorded length"
    return None
