"""The console the commands print tables to."""

from __future__ import annotations

# Wide enough for a table of a dozen behaviors; a terminal keeps its own width.
REDIRECTED_WIDTH = 200


def output_console():
    """Return a rich Console for standard output.

    Output to a terminal wraps at the terminal's width. Output redirected to a file or a pipe
    (where rich would assume 80 columns and cut names to ``sampl…``) gets a wide console, so
    tables keep every video and behavior name whole. ``COLUMNS`` still wins when it is set.

    Returns
    -------
    rich.console.Console
        The console to print to.
    """
    import os

    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=REDIRECTED_WIDTH)
    return console
