"""Playback and frame stepping over a video reader, paced by the wall clock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ethogram.errors import EthogramError
from ethogram.io.video import VideoReader, read_first_frame

#: Playback speeds offered, slowest first.
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Frames kept decoded, so stepping backwards is as fast as forwards (capped by the reader).
CACHE_FRAMES = 600
_MAX_TICKS_PER_S = 60.0


class Player(QObject):
    """The current frame of one video: seek, step, play at a speed, pause.

    Signals
    -------
    frame_changed(int)
        A new frame is in :attr:`frame` (emitted after decoding).
    opened(int)
        The video is ready to seek and play (its frame count); until then only its first frame
        is shown.
    open_failed(str)
        The video could not be opened after its first frame was shown.
    playing_changed(bool), speed_changed(float)
    error(str)
        A frame could not be decoded; playback stops.
    """

    frame_changed = Signal(int)
    opened = Signal(int)
    open_failed = Signal(str)
    _reader_built = Signal(int, object)  # from the opening thread: (open request, reader or error)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader: VideoReader | None = None
        self.index = 0
        self.frame: np.ndarray | None = None
        self.speed = 1.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._play_origin = (0.0, 0)
        self._request = 0
        self._reader_built.connect(self._on_reader_built)

    # ---- the video -------------------------------------------------------------------------
    def open(self, path: str | Path, wait: bool = True) -> None:
        """Show the first frame of a video at once, then open it for seeking and playing.

        Opening numbers every frame of the file, which takes longer for longer videos (about
        half a second for 20 minutes); with ``wait=False`` that runs in a thread and
        :attr:`opened` (or :attr:`open_failed`) is emitted when it is done, so the window shows
        the first frame without waiting.

        Raises
        ------
        EthogramError
            The first frame cannot be read (not a video, empty, missing); with ``wait``, also
            any error of opening the whole video.
        """
        self.close()
        self._request += 1
        request = self._request
        self.frame = read_first_frame(path)
        self.index = 0
        self.frame_changed.emit(0)
        if wait:
            result = self._build_reader(path)
            if isinstance(result, BaseException):
                self.frame = None
                raise result
            self._on_reader_built(request, result)
            return
        thread = threading.Thread(
            target=lambda: self._reader_built.emit(request, self._build_reader(path)),
            name="ethogram-open-video",
            daemon=True,
        )
        thread.start()

    @staticmethod
    def _build_reader(path: str | Path) -> VideoReader | BaseException:
        try:
            return VideoReader(path, cache_size=CACHE_FRAMES)
        except Exception as exc:  # handed to the GUI thread, which reports it
            return exc

    def _on_reader_built(self, request: int, result: object) -> None:
        if request != self._request:  # another video was opened meanwhile
            if isinstance(result, VideoReader):
                result.close()
            return
        if not isinstance(result, VideoReader):
            self.frame = None
            message = str(result) if isinstance(result, EthogramError) else repr(result)
            self.open_failed.emit(message)
            return
        self.reader = result
        self.frame = result[0]
        self.opened.emit(len(result))
        self.frame_changed.emit(0)

    @property
    def is_ready(self) -> bool:
        """True once the video can be sought and played."""
        return self.reader is not None

    def close(self) -> None:
        """Stop and release the video."""
        self.pause()
        self._request += 1  # a reader still being built for the old video is dropped
        if self.reader is not None:
            self.reader.close()
        self.reader, self.frame, self.index = None, None, 0

    @property
    def n_frames(self) -> int:
        """Frames in the video (0 when none is open)."""
        return len(self.reader) if self.reader is not None else 0

    @property
    def fps(self) -> float:
        """Frames per second of the video (30 when none is open)."""
        return self.reader.fps if self.reader is not None else 30.0

    # ---- moving ----------------------------------------------------------------------------
    def seek(self, index: int) -> bool:
        """Show frame ``index`` (clamped to the video); returns False if it could not be read."""
        if self.reader is None:
            return False
        index = int(min(max(index, 0), self.n_frames - 1))
        if index == self.index and self.frame is not None:
            return True
        try:
            self.frame = self.reader[index]
        except EthogramError as exc:
            self.pause()
            self.error.emit(f"frame {index} could not be read: {exc}")
            return False
        self.index = index
        if self.is_playing:
            self._play_origin = (time.monotonic(), index)
        self.frame_changed.emit(index)
        return True

    def step(self, n: int) -> bool:
        """Move ``n`` frames (negative: back)."""
        return self.seek(self.index + n)

    # ---- playback --------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        """True while playing."""
        return self._timer.isActive()

    def play(self) -> None:
        """Play from the current frame at :attr:`speed` (from the start if at the end)."""
        if self.reader is None or self.is_playing:
            return
        if self.index >= self.n_frames - 1:
            self.seek(0)
        self._play_origin = (time.monotonic(), self.index)
        rate = min(self.fps * self.speed, _MAX_TICKS_PER_S)
        self._timer.start(max(1, int(1000 / rate)))
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop playing."""
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        """Play if paused, pause if playing."""
        self.pause() if self.is_playing else self.play()

    def set_speed(self, speed: float) -> None:
        """Playback speed (1 = real time); takes effect at once when playing."""
        self.speed = float(speed)
        if self.is_playing:
            self.pause()
            self.play()
        self.speed_changed.emit(self.speed)

    def faster(self) -> None:
        """The next speed up in :data:`SPEEDS`."""
        self.set_speed(next((s for s in SPEEDS if s > self.speed), SPEEDS[-1]))

    def slower(self) -> None:
        """The next speed down in :data:`SPEEDS`."""
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0]))

    def _tick(self) -> None:
        started, first = self._play_origin
        target = first + int((time.monotonic() - started) * self.fps * self.speed)
        if target >= self.n_frames - 1:
            self.seek(self.n_frames - 1)
            self.pause()
            return
        if target != self.index:
            origin = self._play_origin
            self.seek(target)
            self._play_origin = origin
