"""The ``ethogram`` command: a registry of command modules, each with one group of commands.

Each module in :data:`COMMAND_MODULES` exposes ``register(app)``, which adds its commands to the
typer app. Modules import heavy dependencies (torch, cv2, h5py) inside command functions, so
``ethogram --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from ethogram import __version__
from ethogram.errors import EthogramError

COMMAND_MODULES = [
    "ethogram.cli.project_cmds",
    "ethogram.cli.sample_cmd",
    "ethogram.cli.flow_cmd",
    "ethogram.cli.train_cmd",
    "ethogram.cli.extract_cmd",
    "ethogram.cli.predict_cmds",
    "ethogram.cli.export_cmd",
    "ethogram.cli.summarize_cmd",
    "ethogram.cli.evaluate_cmd",
    "ethogram.cli.interop_cmds",
    "ethogram.cli.gui_cmd",
]

app = typer.Typer(
    name="ethogram",
    help="Classify every frame of a video into the behaviors you define.\n\n"
    "Start with `ethogram sample demo/` for example data, then `ethogram new`, `ethogram add`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ethogram {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """Classify every frame of a video into the behaviors you define."""
    _STATE["debug"] = debug


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command group not built yet
                continue
            raise
        module.register(app)


_register_all()


def show_warnings_briefly() -> None:
    """Print Python warnings as one ``warning: ...`` line on stderr (no file and line)."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        typer.secho(f"warning: {message}", fg="yellow", err=True)

    warnings.showwarning = show


def run() -> None:
    """Entry point of the console script: run the app, turning EthogramError into exit code 2.

    Usage errors are reported by typer (exit 2); an EthogramError is printed on one line (exit
    2) unless ``--debug`` was given, which shows the traceback. The library's log records are
    printed while the command runs (:mod:`ethogram.cli.notes`).
    """
    from ethogram.cli.notes import notes_shown

    debug = "--debug" in sys.argv[1:]
    if not debug:
        show_warnings_briefly()
    try:
        # the library's notes on stderr; the training pipeline's stage summaries on stdout
        with notes_shown(stdout_loggers=("ethogram.train",)):
            app()  # standalone mode: typer handles usage errors, --help and Ctrl-C itself
    except EthogramError as exc:
        if debug:
            raise
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
