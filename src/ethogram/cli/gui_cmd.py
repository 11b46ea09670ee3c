"""The ``gui`` command: the labeling and review window."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help
from ethogram.errors import EthogramError

HELP = unwrap_help("""Label videos and review predictions in a window.

Opens PROJECT (an ethogram or DeepEthogram project folder), or an empty window from which to
create or open one. Labels save by themselves within two seconds of every change. Press F1 in
the window for every shortcut. Needs the `gui` extra: pip install 'ethogram\\[gui]'.

With --screenshot the window is drawn into a PNG file and the command exits (for docs and
tests; works without a screen when QT_QPA_PLATFORM=offscreen).
""")

EPILOG = """Examples:

  ethogram gui mice_project

  ethogram gui mice_project --video session1 --frame 1200

  QT_QPA_PLATFORM=offscreen ethogram gui mice_project --screenshot window.png
"""

INSTALL_HINT = (
    "the GUI needs the `gui` extra (PySide6 and pyqtgraph): pip install 'ethogram[gui]' "
    "(or, in this repository, make install)"
)


def _check_installed() -> None:
    try:
        import pyqtgraph  # noqa: F401
        from PySide6 import QtWidgets  # noqa: F401
    except ImportError as exc:  # not installed, or Qt's system libraries are missing
        raise EthogramError(f"{INSTALL_HINT} ({exc})") from None


def gui(
    project_path: Path = typer.Argument(None, metavar="[PROJECT]", help="Project folder."),
    screenshot: Path = typer.Option(
        None, "--screenshot", help="Draw the window into this PNG file and exit."
    ),
    video: str = typer.Option(None, "--video", help="Open this video of the project."),
    frame: int = typer.Option(None, "--frame", help="Go to this frame."),
) -> None:
    _check_installed()
    from ethogram.gui.app import run

    status = run(project_path, screenshot, video, frame)
    if screenshot is not None:
        typer.echo(f"Screenshot written to {screenshot}")
    if status:
        raise SystemExit(status)


gui.__doc__ = HELP


def register(app: typer.Typer) -> None:
    """Add the ``gui`` command to ``app``."""
    app.command("gui", help=HELP, epilog=EPILOG)(gui)
