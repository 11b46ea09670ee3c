"""The main window's projects and videos: open, create, add, switch, file dialogs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QInputDialog

from ethogram.errors import EthogramError
from ethogram.gui.window_labeling import file_stamp
from ethogram.labeling import KeyLabeler, LabelDocument


class ProjectsMixin:
    """Opening projects and videos in :class:`~ethogram.gui.main_window.MainWindow`."""

    # ---- projects and videos ---------------------------------------------------------------
    def open_project(self, path: str | Path) -> bool:
        """Open an ethogram or DeepEthogram project; False (with a message) if it cannot be."""
        from ethogram.project import Project

        self.flush()
        try:
            project = Project.open(path)
        except EthogramError as exc:
            self._error(str(exc))
            return False
        self._close_video()
        self.project = project
        self.model = None
        self.setWindowTitle(f"ethogram - {project.name}")
        self.ethogram.set_behaviors(project.behaviors)
        self._fit_ethogram()
        self._bind_behavior_keys()
        self.video_list.fill(project)
        self._refresh_readiness()
        stems = self.video_list.stems
        if stems:
            self.open_video(stems[0])
        else:
            self.video_view.show_message(f"{project.name} has no videos yet: File > Add videos.")
        return True

    def new_project(self, path: str | Path, behaviors: list[str]) -> bool:
        """Create a project and open it."""
        from ethogram.project import Project

        try:
            Project.create(path, behaviors)
        except EthogramError as exc:
            self._error(str(exc))
            return False
        return self.open_project(path)

    def add_videos(self, paths: list[str | Path], link: bool = False) -> list[str]:
        """Add videos to the project; returns the names added (errors are shown, not raised)."""
        if self.project is None:
            self._error("Open or create a project first.")
            return []
        added, errors = [], []
        for path in paths:
            try:
                added.append(self.project.add_video(path, link=link).stem)
            except EthogramError as exc:
                errors.append(str(exc))
        self.video_list.fill(self.project)
        if self.stem is not None:
            self.video_list.select(self.stem)
        self._refresh_readiness()
        if errors:
            self._error("Some videos were not added:\n" + "\n".join(errors))
        if added and self.stem is None:
            self.open_video(added[0])
        return added

    def open_dropped(self, paths: list[str | Path]) -> None:
        """Files or folders dropped on the window: a project folder opens, videos are added.

        Anything else is named in a message; nothing is added from a drop that mixes a
        project folder with other files.
        """
        from ethogram.project_config import CONFIG_NAME
        from ethogram.video_record import VIDEO_SUFFIXES

        paths = [Path(p) for p in paths]
        projects = [p for p in paths if (p / CONFIG_NAME).is_file()]
        if projects:
            if len(paths) > 1:
                self._error("Drop one project folder, or video files, not both at once.")
                return
            self.open_project(projects[0])
            return
        videos = [p for p in paths if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
        others = [p.name for p in paths if p not in videos]
        if videos:
            self.add_videos(videos)
        if others:
            self._error(
                "Not a video or a project folder, so not added: "
                + ", ".join(others)
                + f"\n(videos: {', '.join(VIDEO_SUFFIXES)})"
            )

    def open_video(self, stem: str, wait: bool = True) -> bool:
        """Show video ``stem`` with its labels and predictions.

        Its first frame is shown at once. With ``wait=False`` (a click in the list) the video is
        opened for stepping in the background and its labels appear when it is ready; with
        ``wait`` (scripts, tests) everything is ready when this returns.

        Returns
        -------
        bool
            False if the video cannot be shown (the window shows why).
        """
        if self.project is None:
            return False
        self.flush()
        self._close_video()
        self.stem = stem
        self.video_list.select(stem)
        record = self.project.video(stem)
        try:
            self.player.open(record.video_path, wait=wait)
        except EthogramError as exc:
            self._video_failed(str(exc))
            return False
        if not self.player.is_ready:
            self._status(f"opening {stem}...")
        return self.document is not None or not wait or self.player.is_ready

    def _video_failed(self, message: str) -> None:
        self.video_view.show_message(f"{self.stem} cannot be shown.\n\n{message}")
        self._status(f"{self.stem}: cannot be read")
        self._update_enabled()

    def _video_ready(self, n_frames: int) -> None:
        """The player can seek: load the labels and predictions of the video."""
        stem = self.stem
        record = self.project.video(stem)
        try:
            table = self.project.read_labels(stem)
            if table is not None and table.n_frames != n_frames:
                raise EthogramError(
                    f"{record.labels_path}: has {table.n_frames} rows but the video has "
                    f"{n_frames} frames; fix or remove the file to label this video"
                )
        except EthogramError as exc:
            self._error(str(exc))
            table = False
        if table is not False:
            from ethogram.io.labels import empty_labels

            values = (
                table.values
                if table is not None
                else empty_labels(n_frames, self.project.behaviors)
            )
            self._disk_stamp = file_stamp(record.labels_path)
            self.document = LabelDocument(
                values,
                self.project.behaviors,
                exclusive=self.actions_by_name["exclusive"].isChecked(),
            )
            self.keys = KeyLabeler(self.document)
        self.ethogram.set_fps(self.player.fps)
        self.ethogram.set_labels(
            self.document.values
            if self.document is not None
            else np.full((n_frames, len(self.project.behaviors)), -1, np.int8)
        )
        self.load_predictions()
        self._update_enabled()
        self._status(f"{stem}: {n_frames} frames")

    def _close_video(self) -> None:
        self.player.close()
        self.stem, self.document, self.keys = None, None, None
        self.predictions, self.predicted, self.selection = None, None, None
        self.ethogram.set_highlight(0, None)

    def switch_video(self, offset: int) -> None:
        """Open the next (``offset`` 1) or previous (-1) video of the list."""
        stems = self.video_list.stems
        if not stems:
            return
        index = stems.index(self.stem) if self.stem in stems else -offset
        self.open_video(stems[(index + offset) % len(stems)], wait=False)

    def open_project_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a project folder")
        if path:
            self.open_project(path)

    def new_project_dialog(self) -> None:
        path = QFileDialog.getSaveFileName(self, "New project folder")[0]
        if not path:
            return
        text, ok = QInputDialog.getText(
            self, "Behaviors", "Behaviors, separated by commas (background is added):"
        )
        if ok:
            self.new_project(path, [b.strip() for b in text.split(",") if b.strip()])

    def add_videos_dialog(self) -> None:
        paths = QFileDialog.getOpenFileNames(
            self, "Add videos", "", "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.mpg *.wmv);;All (*)"
        )[0]
        if paths:
            self.add_videos(paths)

    def add_behavior_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "Add behavior", "Name of the new behavior:")
        if ok and name.strip():
            self.add_behavior(name.strip())

    def rename_behavior_dialog(self) -> None:
        if self.project is None:
            return
        names = self.project.behaviors[1:]
        old, ok = QInputDialog.getItem(self, "Rename behavior", "Behavior:", names, 0, False)
        if not ok:
            return
        new, ok = QInputDialog.getText(self, "Rename behavior", f"New name for {old}:")
        if ok and new.strip():
            self.rename_behavior(old, new.strip())
