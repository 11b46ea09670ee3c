"""The main window: videos, the frame, the ethogram, labeling, review, train and predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ethogram.errors import EthogramError
from ethogram.gui.dialogs import HelpDialog, ShortcutsDialog
from ethogram.gui.ethogram_view import EthogramView
from ethogram.gui.job_panel import JobPanel
from ethogram.gui.player import Player
from ethogram.gui.review_panel import ReviewPanel, VideoPredictions, load_predictions
from ethogram.gui.shortcuts import ACTIONS, load_keymap, save_keymap
from ethogram.gui.transport import TransportBar, parse_position
from ethogram.gui.video_list import VideoList
from ethogram.gui.video_view import VideoView
from ethogram.labeling import (
    KeyLabeler,
    LabelDocument,
    disagreement_runs,
    next_run,
    uncertain_runs,
)

#: Labels are written at most this long after the first unsaved change.
AUTOSAVE_MS = 1500


class MainWindow(QMainWindow):
    """The labeling and review window.

    Parameters
    ----------
    keymap_path
        The user's shortcut file (default: :func:`ethogram.gui.shortcuts.shortcuts_path`).
    """

    def __init__(self, keymap_path: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ethogram")
        self.project = None
        self.stem: str | None = None
        self.document: LabelDocument | None = None
        self.keys: KeyLabeler | None = None
        self.predictions: VideoPredictions | None = None
        self.predicted: np.ndarray | None = None
        self.selection: tuple[int, int] | None = None
        self.model: Path | None = None  # whose predictions are shown (None: the newest)
        self._mark_in: int | None = None
        self._backed_up: set[str] = set()
        self._keymap_path = keymap_path
        self.keymap = load_keymap(keymap_path)
        self._last_index = 0
        self._stepping = False
        self.last_error: str | None = None
        self._save_failing = False

        self.player = Player(self)
        self.player.frame_changed.connect(self._frame_changed)
        self.player.playing_changed.connect(lambda p: self.transport.show_playing(p))
        self.player.speed_changed.connect(lambda s: self.transport.show_speed(s))
        self.player.error.connect(self._status)
        self.player.opened.connect(self._video_ready)
        self.player.open_failed.connect(self._video_failed)

        self.video_view = VideoView()
        self.transport = TransportBar()
        self.transport.play_clicked.connect(self.player.toggle_play)
        self.transport.speed_chosen.connect(self.player.set_speed)
        self.transport.go_to.connect(self.go_to)
        self.ethogram = EthogramView()
        self.ethogram.seek_requested.connect(self.jump_to)
        self.ethogram.paint_requested.connect(self.paint)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.video_view, 1)
        top_layout.addWidget(self.transport)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.ethogram)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setChildrenCollapsible(False)
        self._splitter = splitter
        self.setCentralWidget(splitter)

        self.actions_by_name: dict[str, QAction] = {}
        self._make_actions()
        self.video_list = VideoList()
        self.video_list.video_selected.connect(lambda stem: self.open_video(stem, wait=False))
        self.review = ReviewPanel(self.actions_by_name)
        self.review.thresholds_changed.connect(self._thresholds_changed)
        self.jobs = JobPanel()
        self.jobs.job_started.connect(lambda _title: self._show_job_reasons())
        self.jobs.job_ended.connect(lambda _title, _how: self._after_job())
        self._dock("Videos", self.video_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Review", self.review, Qt.DockWidgetArea.LeftDockWidgetArea)
        jobs_dock = self._dock(
            "Train and predict", self.jobs, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        # The video and the ethogram get the room; the job log is there when needed.
        self.resizeDocks([jobs_dock], [150], Qt.Orientation.Vertical)
        self._make_menus()
        self._why = QLabel()
        self._reasons: tuple[str | None, str | None] = ("open a project first",) * 2
        self.statusBar().addPermanentWidget(self._why)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.timeout.connect(self.save_labels)
        self.resize(1400, 900)
        self._update_enabled()

    # ---- building ----------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _make_actions(self) -> None:
        handlers = {
            "play": self.player.toggle_play,
            "step_forward": lambda: self.step(1),
            "step_back": lambda: self.step(-1),
            "jump_forward": lambda: self.step(self.transport.jump.value()),
            "jump_back": lambda: self.step(-self.transport.jump.value()),
            "first_frame": lambda: self.jump_to(0),
            "last_frame": lambda: self.jump_to(self.player.n_frames - 1),
            "faster": self.player.faster,
            "slower": self.player.slower,
            "go_to": lambda: self.transport.go_box.setFocus(),
            "next_video": lambda: self.switch_video(1),
            "previous_video": lambda: self.switch_video(-1),
            "zoom_in": lambda: self._zoom(0.5),
            "zoom_out": lambda: self._zoom(2.0),
            "fit_video": lambda: self.video_view.reset_zoom(),
            "end_keys": self.end_keys,
            "undo": self.undo,
            "redo": self.redo,
            "save": self.save_labels,
            "exclusive": self._exclusive_toggled,
            "mark_in": self.mark_in,
            "mark_out": self.mark_out,
            "clear_selection": lambda: self.set_selection(None),
            "mark_background": self.mark_background,
            "clear_labels": self.clear_labels,
            "next_uncertain": lambda: self.next_uncertain(False),
            "previous_uncertain": lambda: self.next_uncertain(True),
            "next_disagreement": lambda: self.next_disagreement(False),
            "previous_disagreement": lambda: self.next_disagreement(True),
            "accept": lambda: self.accept_predictions(False),
            "accept_unlabeled": lambda: self.accept_predictions(True),
            "help": self.show_help,
        }
        for spec in ACTIONS:
            action = QAction(spec.text, self)
            action.setShortcuts([QKeySequence(k) for k in self.keymap[spec.name]])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(handlers[spec.name])
            self.addAction(action)
            self.actions_by_name[spec.name] = action
        self.actions_by_name["exclusive"].setCheckable(True)
        self.actions_by_name["next_uncertain"].setText("Next uncertain (U)")
        self.actions_by_name["next_disagreement"].setText("Next disagreement (D)")
        self.actions_by_name["accept"].setText("Accept predictions in selection (A)")
        self.actions_by_name["accept_unlabeled"].setText("Accept, unlabeled frames only (Shift+A)")
        self.actions_by_name["mark_background"].setText("Unlabeled in selection -> background (B)")
        self._behavior_actions: list[QAction] = []
        self.train_action = QAction("Train", self)
        self.train_action.triggered.connect(self.train)
        self.predict_action = QAction("Predict", self)
        self.predict_action.triggered.connect(self.predict)

    def _make_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        for text, handler in (
            ("New project...", self.new_project_dialog),
            ("Open project...", self.open_project_dialog),
            ("Add videos...", self.add_videos_dialog),
        ):
            action = menu.addAction(text)
            action.triggered.connect(handler)
        menu.addAction(self.actions_by_name["save"])
        menu.addSeparator()
        menu.addAction("Quit", self.close)
        groups: dict[str, list[str]] = {}
        for spec in ACTIONS:
            groups.setdefault(spec.group, []).append(spec.name)
        for group in ("Video", "Labels", "Review"):
            menu = self.menuBar().addMenu(f"&{group}")
            for name in groups[group]:
                menu.addAction(self.actions_by_name[name])
            if group == "Labels":
                menu.addSeparator()
                menu.addAction("Add behavior...", self.add_behavior_dialog)
                menu.addAction("Rename behavior...", self.rename_behavior_dialog)
                menu.addAction("Shortcuts...", self.edit_shortcuts)
        menu = self.menuBar().addMenu("&Models")
        menu.addAction(self.train_action)
        menu.addAction(self.predict_action)
        menu.addAction("Train with settings...", self.train_settings_dialog)
        menu.addSeparator()
        menu.addAction("Show predictions of model...", self.choose_model_dialog)
        menu = self.menuBar().addMenu("&Help")
        menu.addAction(self.actions_by_name["help"])
        toolbar = self.addToolBar("Models")
        toolbar.setObjectName("models")
        toolbar.addAction(self.train_action)
        toolbar.addAction(self.predict_action)

    def _bind_behavior_keys(self) -> None:
        for action in self._behavior_actions:
            self.removeAction(action)
        self._behavior_actions = []
        behaviors = self.project.behaviors if self.project is not None else []
        for index, name in enumerate(behaviors[:10]):
            action = QAction(f"Toggle {name}", self)
            action.setShortcut(QKeySequence(str(index)))
            action.triggered.connect(lambda _=False, k=index: self.toggle_behavior(k))
            self.addAction(action)
            self._behavior_actions.append(action)

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

    # ---- moving ------------------------------------------------------------------------------
    def step(self, n: int) -> None:
        """Move ``n`` frames; behavior keys that are on fill (forward) or erase (back)."""
        self._stepping = True
        try:
            self.player.step(n)
        finally:
            self._stepping = False

    def jump_to(self, frame: int) -> None:
        """Go to ``frame`` (ends a key stroke: a jump never fills labels)."""
        self.end_keys()
        self.player.seek(frame)

    def go_to(self, text: str) -> None:
        """Go to a frame or time typed by the user."""
        self.setFocus()
        if self.player.reader is None:
            return
        try:
            self.jump_to(parse_position(text, self.player.fps, self.player.n_frames))
        except EthogramError as exc:
            self._status(str(exc))

    def _frame_changed(self, index: int) -> None:
        frame = self.player.frame
        if frame is not None:
            self.video_view.show_frame(frame)
        if (
            self.keys is not None
            and self.keys.active
            and (self._stepping or self.player.is_playing)
        ):
            self.keys.move(self._last_index, index)
            self._labels_changed()
        self._last_index = index
        self.ethogram.set_current_frame(index)
        self.transport.show_position(index, self.player.n_frames, self.player.fps)

    def _fit_ethogram(self) -> None:
        """Give the ethogram the height its rows need and the video the rest."""
        total = sum(self._splitter.sizes()) or self.height()
        wanted = self.ethogram.sizeHint().height()
        self._splitter.setSizes([max(total - wanted, 200), wanted])

    def _zoom(self, factor: float) -> None:
        start, stop = self.ethogram.detail_range()
        self.ethogram.set_detail_span(max(10, int((stop - start) * factor)))

    # ---- labeling ----------------------------------------------------------------------------
    def toggle_behavior(self, index: int) -> None:
        """A behavior key: toggle that behavior on or off at the current frame."""
        if self.keys is None or index >= len(self.document.behaviors):
            return
        on = self.keys.toggle(index, self.player.index)
        name = self.document.behaviors[index]
        self._status(f"{name} on: move forward to mark, back to erase" if on else f"{name} off")
        self._labels_changed()

    def end_keys(self) -> None:
        """Turn every behavior key off."""
        if self.keys is not None and self.keys.active:
            self.keys.stop()
            self._status("behavior keys off")

    def paint(self, behavior: int, start: int, stop: int, value: int) -> None:
        """Set ``behavior`` to ``value`` over [start, stop) (a drag on the ethogram)."""
        if self.document is None:
            return
        self.end_keys()
        if self.document.paint(behavior, start, stop, value):
            self._labels_changed()

    def undo(self) -> None:
        """Undo the last label edit."""
        if self.document is not None:
            self.end_keys()
            if self.document.undo() is not None:
                self._labels_changed()

    def redo(self) -> None:
        """Redo the last undone label edit."""
        if self.document is not None and self.document.redo() is not None:
            self._labels_changed()

    def _exclusive_toggled(self) -> None:
        on = self.actions_by_name["exclusive"].isChecked()
        if self.document is not None:
            self.document.exclusive = on
        self._status("behaviors are mutually exclusive" if on else "behaviors may overlap")

    def mark_in(self) -> None:
        """The selection starts at the current frame."""
        self._mark_in = self.player.index
        end = self.selection[1] if self.selection and self.selection[1] > self._mark_in else None
        self.set_selection((self._mark_in, end or self._mark_in + 1))

    def mark_out(self) -> None:
        """The selection ends at (and includes) the current frame."""
        start = self._mark_in if self._mark_in is not None else self.player.index
        self.set_selection((start, self.player.index + 1))

    def set_selection(self, selection: tuple[int, int] | None) -> None:
        """Select frames [start, stop) (None clears)."""
        if selection is not None:
            start, stop = sorted(selection)
            selection = (start, max(stop, start + 1))
        else:
            self._mark_in = None
        self.selection = selection
        if selection is None:
            self.ethogram.set_highlight(0, None)
        else:
            self.ethogram.set_highlight(*selection)
            self._status(f"selected frames {selection[0]} to {selection[1] - 1}")

    def mark_background(self) -> None:
        """Every unlabeled behavior in the selection becomes absent (background if none)."""
        if self.document is None:
            return
        if self.selection is None:
            self._status("select a range first: I at its start, O at its end")
            return
        if self.document.mark_unlabeled_as_background(*self.selection):
            self._labels_changed()

    def clear_labels(self) -> None:
        """Unlabel the selection (every behavior back to -1)."""
        if self.document is None or self.selection is None:
            self._status("select a range first: I at its start, O at its end")
            return
        if self.document.paint(0, *self.selection, -1):
            self._labels_changed()

    def _labels_changed(self) -> None:
        doc = self.document
        if doc is None:
            return
        self.ethogram.set_labels(doc.values)
        if self._reasons[0] is not None:
            self._show_job_reasons()
        if doc.dirty and not self._autosave.isActive():
            self._autosave.start(AUTOSAVE_MS)
        self.actions_by_name["undo"].setEnabled(doc.can_undo)
        self.actions_by_name["redo"].setEnabled(doc.can_redo)

    def save_labels(self) -> bool:
        """Write the labels now (atomic, with one backup per video per session)."""
        self._autosave.stop()
        doc = self.document
        if doc is None or self.project is None or self.stem is None or not doc.dirty:
            return True
        stem = self.stem
        try:
            self.project.write_labels(
                stem,
                doc.values,
                behaviors=doc.behaviors,
                backup=stem not in self._backed_up,
                n_frames=doc.n_frames,
            )
        except EthogramError as exc:
            message = f"labels of {stem} were NOT saved: {exc}"
            if self._save_failing:
                self._status(message)  # already shown once; keep trying quietly
            else:
                self._error(message + "\n\nThe window keeps trying every few seconds.")
            self._save_failing = True
            self._autosave.start(2 * AUTOSAVE_MS)
            return False
        self._save_failing = False
        self._backed_up.add(stem)
        doc.mark_saved()
        self.video_list.update_row(self.project, stem, doc.labeled_fraction())
        self._status(f"labels of {stem} saved")
        self._update_enabled()
        return True

    def flush(self) -> bool:
        """Save pending label changes (before switching video, training or closing)."""
        if self.keys is not None:
            self.keys.stop()
        return self.save_labels()

    # ---- behaviors ---------------------------------------------------------------------------
    def add_behavior(self, name: str) -> bool:
        """Add a behavior to the project (every label file gets a column of -1)."""
        if self.project is None or not self.flush():
            return False
        try:
            self.project.add_behavior(name)
        except EthogramError as exc:
            self._error(str(exc))
            return False
        self._behaviors_changed()
        return True

    def rename_behavior(self, old: str, new: str) -> bool:
        """Rename a behavior in the project and every label file."""
        if self.project is None or not self.flush():
            return False
        try:
            self.project.rename_behavior(old, new)
        except EthogramError as exc:
            self._error(str(exc))
            return False
        self._behaviors_changed()
        return True

    def _behaviors_changed(self) -> None:
        stem, frame = self.stem, self.player.index
        self.ethogram.set_behaviors(self.project.behaviors)
        self._fit_ethogram()
        self._bind_behavior_keys()
        if stem is not None:
            self.open_video(stem)
            self.player.seek(frame)

    # ---- review ------------------------------------------------------------------------------
    def load_predictions(self) -> None:
        """Read the newest model's probabilities for this video, if any."""
        self.predictions = None
        if self.project is not None and self.stem is not None:
            try:
                self.predictions = load_predictions(self.project, self.stem, self.model)
            except EthogramError as exc:
                self._status(f"predictions not loaded: {exc}")
            if self.predictions is not None and len(self.predictions.probs) != self.player.n_frames:
                self._status("predictions not loaded: their length differs from the video's")
                self.predictions = None
        behaviors = self.project.behaviors if self.project is not None else []
        self.review.set_predictions(self.predictions, behaviors)
        self.ethogram.set_probabilities(
            None if self.predictions is None else self.predictions.probs
        )
        self._thresholds_changed(self.review.thresholds())

    def show_model(self, model: str | Path | None) -> None:
        """Show the predictions of ``model`` (a folder or its name; None: the newest model)."""
        self.model = None if model is None else Path(model)
        self.load_predictions()
        if self.predictions is None and self.stem is not None:
            self._status(f"{self.stem} has no predictions of that model: predict it first")

    def train_settings_dialog(self) -> None:
        """Train with settings typed as on the command line (``train.epochs=10 ...``)."""
        if not self.train_action.isEnabled():
            self._status(self.train_action.toolTip())
            return
        text, ok = QInputDialog.getText(
            self,
            "Train with settings",
            "Settings as key=value, separated by spaces (e.g. train.epochs=10 "
            "features.arch=resnet18); empty: the project's settings:",
        )
        if ok:
            self.train(tuple(text.split()))

    def choose_model_dialog(self) -> None:
        if self.project is None:
            return
        names = ["newest model"] + [
            p.name for p in reversed(self.project.model_dirs()) if "_flow" not in p.name
        ]
        name, ok = QInputDialog.getItem(
            self, "Predictions", "Show the predictions of:", names, 0, False
        )
        if ok:
            self.show_model(None if name == names[0] else self.project.models_dir / name)

    def _thresholds_changed(self, thresholds) -> None:
        if self.predictions is None or thresholds is None:
            self.predicted = None
        else:
            self.predicted = self.predictions.predicted(thresholds, self.project.behaviors)
        self.ethogram.set_predictions(self.predicted)
        self._update_enabled()

    def _go_to_run(self, found: np.ndarray, backwards: bool, what: str) -> None:
        run = next_run(found, self.player.index, backwards)
        if run is None:
            self._status(f"no {what} in this video")
            return
        self.jump_to(run[0])
        self.set_selection(run)
        self._status(f"{what}: frames {run[0]} to {run[1] - 1} ({len(found)} in this video)")

    def next_uncertain(self, backwards: bool = False) -> None:
        """Go to (and select) the next stretch where the model is least sure."""
        if self.predictions is None:
            self._status("no predictions for this video")
            return
        found = uncertain_runs(self.predictions.probs, self.review.thresholds())
        self._go_to_run(found, backwards, "uncertain stretch")

    def next_disagreement(self, backwards: bool = False) -> None:
        """Go to (and select) the next stretch where labels and predictions differ."""
        if self.predicted is None or self.document is None:
            self._status("no predictions for this video")
            return
        found = disagreement_runs(self.document.values, self.predicted)
        self._go_to_run(found, backwards, "disagreement")

    def accept_predictions(self, only_unlabeled: bool = False) -> None:
        """Copy the predictions into the labels over the selection (else the current bout)."""
        if self.predicted is None or self.document is None:
            self._status("no predictions for this video")
            return
        span = self.selection or self._predicted_bout(self.player.index)
        if self.document.accept(self.predicted, *span, only_unlabeled=only_unlabeled):
            self._labels_changed()
            self._status(f"predictions accepted for frames {span[0]} to {span[1] - 1}")

    def _predicted_bout(self, frame: int) -> tuple[int, int]:
        """The frames around ``frame`` where the predicted behaviors stay the same."""
        rows = self.predicted
        same = (rows == rows[frame]).all(axis=1)
        changes = np.flatnonzero(~same)
        before, after = changes[changes < frame], changes[changes > frame]
        return (
            int(before[-1]) + 1 if before.size else 0,
            int(after[0]) if after.size else len(rows),
        )

    # ---- training and prediction -------------------------------------------------------------
    def _update_enabled(self) -> None:
        has_doc = self.document is not None
        for name in ("undo", "redo", "mark_background", "clear_labels", "save"):
            self.actions_by_name[name].setEnabled(has_doc)
        if has_doc:
            self.actions_by_name["undo"].setEnabled(self.document.can_undo)
            self.actions_by_name["redo"].setEnabled(self.document.can_redo)
        has_predictions = self.predicted is not None
        for name in (
            "next_uncertain",
            "previous_uncertain",
            "next_disagreement",
            "previous_disagreement",
            "accept",
            "accept_unlabeled",
        ):
            self.actions_by_name[name].setEnabled(has_predictions and has_doc)
        self._show_job_reasons()

    def _refresh_readiness(self) -> None:
        """Ask the library whether training and prediction can start (reads label files)."""
        from ethogram.readiness import why_cannot_predict, why_cannot_train

        if self.project is None:
            self._reasons = ("open a project first", "open a project first")
        else:
            prefix = f"{self.project.root}: "
            self._reasons = tuple(
                (why(self.project) or "").removeprefix(prefix) or None
                for why in (why_cannot_train, why_cannot_predict)
            )
        self._show_job_reasons()

    def _show_job_reasons(self) -> None:
        if self.project is not None and self.document is not None and self._reasons[0]:
            if (self.document.values >= 0).all(axis=1).any() and "label" in self._reasons[0]:
                self._reasons = (None, self._reasons[1])  # labeled just now, in this window
        reasons = []
        for action, reason, verb in (
            (self.train_action, self._reasons[0], "Train"),
            (self.predict_action, self._reasons[1], "Predict"),
        ):
            reason = self.jobs.why_busy() or reason
            action.setEnabled(reason is None)
            tip = f"{verb}: {reason}" if reason else f"{verb} in the background"
            action.setToolTip(tip)
            action.setStatusTip(tip)
            if reason:
                reasons.append(f"{verb}: {reason}")
        self._why.setText("   ".join(reasons))

    def train(self, overrides: tuple[str, ...] = ()) -> bool:
        """Train every stage in the background (labels are saved first).

        ``overrides``: settings as ``key=value`` strings, as on the command line.
        """
        if self.project is None or not self.flush():
            return False
        try:
            self.project.settings(overrides=list(overrides))  # a typo is reported here, at once
        except EthogramError as exc:
            self._error(str(exc))
            return False
        return self.jobs.run(
            "Training",
            "ethogram.gui.tasks:train",
            {"project_path": str(self.project.root), "preset": None, "overrides": list(overrides)},
        )

    def predict(self) -> bool:
        """Predict every video of the project in the background."""
        if self.project is None or not self.flush():
            return False
        return self.jobs.run(
            "Predicting",
            "ethogram.gui.tasks:predict",
            {"project_path": str(self.project.root), "stems": None, "overwrite": False},
        )

    def _after_job(self) -> None:
        if self.project is None:
            return
        self.video_list.fill(self.project)
        if self.stem is not None:
            self.video_list.select(self.stem)
            self.load_predictions()
        self._refresh_readiness()

    # ---- dialogs -----------------------------------------------------------------------------
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

    def show_help(self) -> HelpDialog:
        """Show every shortcut (non-modal, so it can stay open beside the video)."""
        behaviors = self.project.behaviors if self.project is not None else ["background"]
        dialog = HelpDialog(self.keymap, behaviors, self)
        dialog.show()
        return dialog

    def edit_shortcuts(self) -> None:
        dialog = ShortcutsDialog(self.keymap, self)
        if dialog.exec():
            self.set_keymap(dialog.keymap())

    def set_keymap(self, keymap: dict[str, tuple[str, ...]]) -> None:
        """Use and save new shortcuts."""
        self.keymap = dict(keymap)
        for name, action in self.actions_by_name.items():
            action.setShortcuts([QKeySequence(k) for k in self.keymap.get(name, ())])
        try:
            save_keymap(self.keymap, self._keymap_path)
        except OSError as exc:
            self._error(f"shortcuts not saved: {exc}")

    # ---- messages ----------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _error(self, text: str) -> None:
        """Show an error without blocking (the window keeps working behind the message)."""
        self.last_error = text
        self._status(text.splitlines()[0])
        box = QMessageBox(QMessageBox.Icon.Warning, "ethogram", text, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if not self.flush():
            answer = QMessageBox.question(
                self, "ethogram", "The labels could not be saved. Quit anyway?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.jobs.cancel()
        self.player.close()
        event.accept()
