"""The main window: videos, the frame, the ethogram, labeling, review, train and predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ethogram.errors import EthogramError
from ethogram.gui.bout_summary import BoutSummary
from ethogram.gui.dialogs import HelpDialog, ShortcutsDialog
from ethogram.gui.ethogram_view import EthogramView
from ethogram.gui.job_panel import JobPanel
from ethogram.gui.player import Player
from ethogram.gui.review_panel import ReviewPanel, VideoPredictions
from ethogram.gui.shortcuts import ACTIONS, load_keymap, save_keymap
from ethogram.gui.transport import TransportBar, parse_position
from ethogram.gui.video_list import VideoList
from ethogram.gui.video_view import VideoView
from ethogram.gui.window_jobs import JobsMixin
from ethogram.gui.window_labeling import AUTOSAVE_MS, LabelingMixin
from ethogram.gui.window_projects import ProjectsMixin
from ethogram.gui.window_review import ReviewMixin
from ethogram.labeling import KeyLabeler, LabelDocument

__all__ = ["AUTOSAVE_MS", "MainWindow"]


class MainWindow(ProjectsMixin, LabelingMixin, ReviewMixin, JobsMixin, QMainWindow):
    """The labeling and review window.

    Its parts are in the mixins, one job each: projects and videos
    (:mod:`~ethogram.gui.window_projects`), labeling (:mod:`~ethogram.gui.window_labeling`),
    review (:mod:`~ethogram.gui.window_review`), train and predict
    (:mod:`~ethogram.gui.window_jobs`). This class builds the window and moves through the video.

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
        self._disk_stamp: tuple[int, int] | None = None  # of the open video's label file

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
        self.bout_summary = BoutSummary()
        self.video_list.filled.connect(lambda tables: self.bout_summary.reset(self.project, tables))
        videos = QWidget()
        videos_layout = QVBoxLayout(videos)
        videos_layout.setContentsMargins(0, 0, 0, 0)
        videos_layout.setSpacing(0)
        videos_layout.addWidget(self.video_list, 1)
        videos_layout.addWidget(self.bout_summary)
        self._dock("Videos", videos, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Review", self.review, Qt.DockWidgetArea.LeftDockWidgetArea)
        jobs_dock = self._dock(
            "Train and predict", self.jobs, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        # The video and the ethogram get the room; the job log is there when needed.
        self.resizeDocks([jobs_dock], [150], Qt.Orientation.Vertical)
        self.setAcceptDrops(True)  # videos to add, or a project folder to open
        self._make_menus()
        self._why = QLabel()
        self._reasons: tuple[str | None, str | None] = ("open a project first",) * 2
        # a normal widget: a passing message replaces it for a few seconds, instead of both
        # sharing one line
        self.statusBar().addWidget(self._why, 1)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.timeout.connect(self.save_labels)
        self.resize(1400, 900)
        # The window itself holds the keyboard, so arrows, digits and Space reach the shortcuts.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
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

    # ---- shortcuts ---------------------------------------------------------------------------
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

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_dropped(paths)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        message = self.statusBar().currentMessage()
        if message:  # given before the window showed: again once shown, so it hides the reasons
            QTimer.singleShot(0, lambda: self._status_again(message))

    def _status_again(self, text: str) -> None:
        self.statusBar().clearMessage()  # Qt ignores a message equal to the one shown
        self._status(text)

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
