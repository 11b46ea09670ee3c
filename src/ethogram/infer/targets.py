"""Which videos to predict and where each one's result files go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ethogram.errors import ProjectError
from ethogram.video_record import VIDEO_SUFFIXES


@dataclass
class VideoTarget:
    """A video to predict and the folder its result files go to."""

    video: Path
    out_dir: Path
    stem: str = ""

    def __post_init__(self) -> None:
        self.video = Path(self.video)
        self.out_dir = Path(self.out_dir)
        self.stem = self.stem or self.video.stem

    @property
    def outputs_path(self) -> Path:
        """``<stem>_outputs.h5``."""
        return self.out_dir / f"{self.stem}_outputs.h5"

    @property
    def predictions_path(self) -> Path:
        """``<stem>_predictions.csv``."""
        return self.out_dir / f"{self.stem}_predictions.csv"

    @property
    def bouts_path(self) -> Path:
        """``<stem>_bouts.csv``."""
        return self.out_dir / f"{self.stem}_bouts.csv"


def _videos_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )


def collect_targets(
    project=None, paths: Sequence[str | Path] | None = None, out: str | Path | None = None
) -> list[VideoTarget]:
    """The videos to predict and where each one's files go.

    Without ``paths``: every project video, files in its ``DATA/<stem>/`` folder (or ``out``).
    With ``paths`` (video files, folders of videos, or names of project videos): files go to
    ``out``, else beside each video (a project video's files stay in its folder).
    """
    out_dir = Path(out) if out is not None else None
    targets: list[VideoTarget] = []
    records = {r.stem: r for r in project.videos} if project is not None else {}
    if not paths:
        if project is None:
            raise ProjectError("no videos given: pass a project or video files")
        if not records:
            raise ProjectError(f"{project.root}: the project has no videos; `ethogram add` some")
        for record in records.values():
            targets.append(VideoTarget(record.video_path, out_dir or record.folder, record.stem))
        return targets
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = _videos_in(path)
            if not found:
                raise ProjectError(
                    f"{path}: no video files ({', '.join(VIDEO_SUFFIXES)}) in folder"
                )
            targets += [VideoTarget(v, out_dir or v.parent) for v in found]
        elif path.exists() or path.suffix:
            targets.append(VideoTarget(path, out_dir or path.parent))
        elif str(item) in records:
            record = records[str(item)]
            targets.append(VideoTarget(record.video_path, out_dir or record.folder, record.stem))
        else:
            raise ProjectError(f"{path}: no such video file, folder or project video")
    seen: dict[Path, Path] = {}
    for target in targets:
        key = target.predictions_path.resolve()
        if key in seen and seen[key] != target.video.resolve():
            raise ProjectError(
                f"{seen[key]} and {target.video} would both write {target.predictions_path}; "
                "rename one or predict them into different --out folders"
            )
        seen[key] = target.video.resolve()
    unique = {t.predictions_path.resolve(): t for t in targets}
    return list(unique.values())
