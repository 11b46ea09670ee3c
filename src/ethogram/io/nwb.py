"""NWB files: behavior bouts as ndx-ethogram's ``EthogramBouts``, or a plain ``TimeIntervals``.

Needs ``pynwb`` (``pip install "ethogram[nwb]"``), and uses ``ndx-ethogram`` when installed.

Written, one file per video:

* ``processing/behavior/behavior_bouts``: with ndx-ethogram an ``EthogramBouts`` table (a
  ``TimeIntervals``: ``start_time``, ``stop_time`` in seconds and a ``label`` column) with
  ``labeling_method`` ``manual`` (labels) or ``automated`` (predictions) and ``source_software``;
  its ``ethogram`` link points to ``processing/behavior/ethogram`` (an ``Ethogram`` table, one row
  per behavior) and its ``source_video`` link to ``acquisition/behavior_video`` (an external
  ``ImageSeries`` naming the video file, with its frame rate). Without ndx-ethogram: a plain
  ``TimeIntervals`` with a ``behavior`` column.
* ``processing/behavior/observation_intervals`` (a ``TimeIntervals``), only when some frames are
  not labeled: the spans that are (ndx-ethogram's ``observation_intervals``).

Read: the first ``EthogramBouts`` (manual ones first), else a ``TimeIntervals`` with a ``label``
or ``behavior`` column, in ``processing`` or ``intervals``; rows whose start equals their stop
are point events.

This module imports neither torch nor Qt; pynwb is imported only when a file is read or written.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from uuid import uuid4

from ethogram.errors import LabelError
from ethogram.io.annotation import BACKGROUND, Annotation, Bout, LabelExport
from ethogram.io.atomic import atomic_path

FORMAT = "nwb"
MODULE = "behavior"
BOUTS_NAME = "behavior_bouts"
ETHOGRAM_NAME = "ethogram"
COVERAGE_NAME = "observation_intervals"
VIDEO_NAME = "behavior_video"
INSTALL_HINT = 'install it with: pip install "ethogram[nwb]"'


def _pynwb():
    try:
        import pynwb
    except ImportError:
        raise LabelError(f"NWB files need the pynwb package; {INSTALL_HINT}") from None
    return pynwb


def _ndx_ethogram():
    """The ndx_ethogram module, or None if it is not installed."""
    try:
        import ndx_ethogram
    except ImportError:
        return None
    return ndx_ethogram


def write(path: str | Path, export: LabelExport) -> Path:
    """Write one video's labels (or predictions) as an NWB file.

    Parameters
    ----------
    path
        The ``.nwb`` file.
    export
        The video's labels or predictions.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    pynwb = _pynwb()
    from pynwb.epoch import TimeIntervals
    from pynwb.image import ImageSeries

    path = Path(path)
    fps = float(export.fps)
    annotation = export.annotation(FORMAT)
    nwbfile = pynwb.NWBFile(
        session_description=f"behavior {export.kind} of {export.video}, exported by ethogram",
        identifier=str(uuid4()),
        session_start_time=datetime.now(timezone.utc),
    )
    video = ImageSeries(
        name=VIDEO_NAME,
        description="the behavior video the labels are of",
        external_file=[export.video],
        format="external",
        starting_frame=[0],
        rate=fps,
        num_samples=export.n_frames,
    )
    nwbfile.add_acquisition(video)
    module = nwbfile.create_processing_module(MODULE, f"behavior {export.kind} (ethogram)")
    behaviors = [b for b in export.behaviors if b != BACKGROUND]
    ndx = _ndx_ethogram()
    # the package is loaded whenever this module is; importing it by name would (for the
    # import linter) reach the torch-using modules it can load lazily
    software = f"ethogram {getattr(sys.modules.get('ethogram'), '__version__', '')}".strip()
    if ndx is not None:
        ethogram = ndx.Ethogram(
            name=ETHOGRAM_NAME,
            description="the project's behaviors (several can occur at once)",
            exclusive=False,
        )
        for name in behaviors:
            ethogram.add_row(behavior=name, definition=name)
        bouts = ndx.EthogramBouts(
            name=BOUTS_NAME,
            description=f"behavior {export.kind}: one row per bout",
            labeling_method="manual" if export.kind == "labels" else "automated",
            source_software=software,
        )
        column = "label"
    else:
        bouts = TimeIntervals(name=BOUTS_NAME, description=f"behavior {export.kind} ({software})")
        bouts.add_column("behavior", "the behavior of each bout")
        column = "behavior"
    for bout in annotation.bouts:
        bouts.add_row(
            start_time=bout.start / fps, stop_time=bout.stop / fps, **{column: bout.behavior}
        )
    coverage = None
    if annotation.coverage is not None:
        coverage = TimeIntervals(name=COVERAGE_NAME, description="the spans that were labeled")
        for start, stop in annotation.coverage:
            coverage.add_row(start_time=start / fps, stop_time=stop / fps)
        module.add(coverage)
    if ndx is not None:
        bouts.ethogram = ethogram
        bouts.source_video = video
        if coverage is not None:
            bouts.observation_intervals = coverage
        module.add(ethogram)
    module.add(bouts)
    with atomic_path(path) as tmp:
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwbfile)
    return path


def _tables(nwbfile):
    """(name, table) of every TimeIntervals with a label or behavior column."""
    from pynwb.epoch import TimeIntervals

    found = []
    for module in nwbfile.processing.values():
        for name, table in module.data_interfaces.items():
            if isinstance(table, TimeIntervals):
                found.append((f"processing/{module.name}/{name}", table))
    for name, table in (nwbfile.intervals or {}).items():
        found.append((f"intervals/{name}", table))
    return [(n, t) for n, t in found if "label" in t.colnames or "behavior" in t.colnames]


def _rows(table, column: str) -> list[tuple[float, float, str]]:
    starts = table["start_time"].data[:]
    stops = table["stop_time"].data[:]
    labels = table[column].data[:]
    return [
        (float(a), float(b), v.decode() if isinstance(v, bytes) else str(v))
        for a, b, v in zip(starts, stops, labels, strict=True)
    ]


def read(path: str | Path) -> list[Annotation]:
    """Read the behavior bouts of an NWB file.

    Parameters
    ----------
    path
        The ``.nwb`` file.

    Returns
    -------
    list of Annotation
        One annotation in seconds, with the video the file names (if any) and the spans labeled
        (``observation_intervals``, if any).

    Raises
    ------
    LabelError
        If pynwb is missing, the file is not an NWB file, or it has no bouts table.
    """
    pynwb = _pynwb()
    _ndx_ethogram()  # registers the extension's classes when installed
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: file not found")
    try:
        io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
        nwbfile = io.read()
    except Exception as exc:  # h5py, hdmf and pynwb raise many kinds for a bad file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LabelError(f"{path}: not a readable NWB file ({detail})") from None
    try:
        tables = _tables(nwbfile)
        if not tables:
            raise LabelError(
                f"{path}: no behavior bouts: expected an EthogramBouts table or a TimeIntervals "
                "table with a 'label' or 'behavior' column"
            )
        manual = [t for t in tables if getattr(t[1], "labeling_method", None) == "manual"]
        name, table = (manual or tables)[0]
        column = "label" if "label" in table.colnames else "behavior"
        rows = _rows(table, column)
        behaviors: list[str] = []
        catalogue = getattr(table, "ethogram", None)
        if catalogue is not None and "behavior" in catalogue.colnames:
            behaviors = [str(b) for b in catalogue["behavior"].data[:]]
        for _, _, label in rows:
            if label not in behaviors:
                behaviors.append(label)
        coverage_table = getattr(table, "observation_intervals", None)
        coverage = None
        if coverage_table is not None:
            coverage = [
                (float(a), float(b))
                for a, b in zip(
                    coverage_table["start_time"].data[:],
                    coverage_table["stop_time"].data[:],
                    strict=True,
                )
            ]
        video = getattr(table, "source_video", None)
        if video is None:
            video = next(
                (
                    s
                    for s in nwbfile.acquisition.values()
                    if getattr(s, "external_file", None) is not None
                ),
                None,
            )
        media = None
        if video is not None and getattr(video, "external_file", None) is not None:
            files = [str(f) for f in video.external_file[:]]
            media = files[0] if len(files) == 1 else None
        method = getattr(table, "labeling_method", None)
    finally:
        io.close()
    bouts = [
        Bout(label, start, stop, point=stop == start, row=i + 1)
        for i, (start, stop, label) in enumerate(rows)
    ]
    notes = [f"NWB table {name}" + (f" ({method})" if method else "")]
    return [
        Annotation(
            source=path,
            format=FORMAT,
            media=media,
            behaviors=behaviors,
            unit="s",
            bouts=bouts,
            coverage=coverage,
            notes=notes,
        )
    ]


__all__ = ["read", "write"]
