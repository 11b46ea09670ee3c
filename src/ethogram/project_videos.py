"""Adding and removing a project's videos: checked first, all or nothing, never deleted outright.

:class:`VideoAdding` is a mixin of :class:`ethogram.project.Project` (which provides
``root``, ``data_dir``, ``behaviors``, ``video`` and ``_changing``, the project's lock).

This module imports neither torch nor Qt.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ethogram.errors import ProjectError
from ethogram.io.atomic import remove_stale_temporaries
from ethogram.io.labels import LabelTable, read_labels, write_labels
from ethogram.video_record import VideoRecord, check_video_source, stage_video, write_record

__all__ = ["VideoAdding"]


class VideoAdding:
    """Add videos to a project (copied or linked, with their labels) and remove them."""

    def check_video(self, video: str | Path, labels: str | Path | None = None) -> LabelTable | None:
        """Check that a video can be added (readable, new name, fitting labels); change nothing.

        Returns
        -------
        LabelTable or None
            The validated labels, if a label file was given.
        """
        info = check_video_source(video)
        self._check_new_name(Path(video).stem)
        if labels is None:
            return None
        return read_labels(labels, behaviors=self.behaviors, n_frames=info.n_frames)

    def _check_new_name(self, stem: str) -> None:
        if stem.startswith("."):
            raise ProjectError(f"{stem!r}: a video name cannot start with '.'; rename the file")
        if (self.data_dir / stem).exists():
            raise ProjectError(f"{self.root}: a video named {stem!r} is already in the project")

    def add_video(
        self,
        video: str | Path,
        labels: str | Path | None = None,
        link: bool = False,
    ) -> VideoRecord:
        """Add a video (copied, or symlinked with ``link``), with optional labels.

        Everything is checked before anything is written: an unreadable video, labels of the
        wrong length or with other behaviors raise an error and leave the project unchanged.

        Parameters
        ----------
        video
            Video file (or folder of images) to add.
        labels
            DeepEthogram label CSV for this video.
        link
            Symlink the video instead of copying it.

        Returns
        -------
        VideoRecord
            The new video's record.
        """
        return self.add_videos([(video, labels)], link=link)[0]

    def add_videos(
        self,
        videos: Sequence[tuple[str | Path, str | Path | None]],
        link: bool = False,
    ) -> list[VideoRecord]:
        """Add several videos, each with its label CSV or None: all of them, or none.

        Videos are copied to hidden folders in ``DATA/`` first; then, holding the project's
        lock, names and labels are checked against the project as it is now, and each folder
        is renamed into place whole.

        Parameters
        ----------
        videos
            ``(video, labels)`` pairs; ``labels`` may be None.
        link
            Symlink the videos instead of copying them.

        Returns
        -------
        list of VideoRecord
            The new videos' records, in order.
        """
        pairs = [(Path(v), Path(lab) if lab is not None else None) for v, lab in videos]
        stems = [v.stem for v, _ in pairs]
        dupes = sorted({s for s in stems if stems.count(s) > 1})
        if dupes:
            raise ProjectError(f"several videos share the name(s) {dupes}; rename them first")
        infos = [check_video_source(v) for v, _ in pairs]
        for (video, labels), info in zip(pairs, infos, strict=True):  # fail early, copy nothing
            self._check_new_name(video.stem)
            if labels is not None:
                read_labels(labels, behaviors=self.behaviors, n_frames=info.n_frames)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.data_dir)  # folders of adds killed half-way
        staged: list[Path] = []
        added: list[Path] = []
        try:
            for video, _ in pairs:
                staged.append(stage_video(video, self.data_dir, link))
            with self._changing("add"):
                tables = []
                for (video, labels), info in zip(pairs, infos, strict=True):
                    self._check_new_name(video.stem)
                    tables.append(
                        None
                        if labels is None
                        else read_labels(labels, behaviors=self.behaviors, n_frames=info.n_frames)
                    )
                for (video, _), folder, table in zip(pairs, staged, tables, strict=True):
                    record = VideoRecord(video.stem, folder)
                    if table is not None:
                        write_labels(record.labels_path, table.values, self.behaviors, backup=False)
                    write_record(record, video.name)
                for (video, _), folder in zip(pairs, staged, strict=True):
                    os.rename(folder, self.data_dir / video.stem)
                    added.append(self.data_dir / video.stem)
        except BaseException:
            for folder in staged + added:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        return [VideoRecord(folder.name, folder) for folder in added]

    def remove_video(self, stem: str) -> Path:
        """Remove a video's folder from the project; it is moved to ``DATA/.removed/``.

        Returns
        -------
        pathlib.Path
            Where the folder was moved (labels are never deleted outright).
        """
        with self._changing("remove"):
            record = self.video(stem)
            trash = self.data_dir / ".removed"
            trash.mkdir(exist_ok=True)
            stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
            dest = trash / f"{stem}.{stamp}"
            os.rename(record.folder, dest)
        return dest
