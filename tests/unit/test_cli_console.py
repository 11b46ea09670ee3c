"""Tables printed by the CLI keep whole names when output is redirected."""

from __future__ import annotations

from rich.table import Table

from ethogram.cli.console import REDIRECTED_WIDTH, output_console


def test_redirected_output_is_wide_enough_for_long_names(monkeypatch, capsys):
    monkeypatch.delenv("COLUMNS", raising=False)
    console = output_console()  # pytest captures stdout: not a terminal
    assert console.width == REDIRECTED_WIDTH
    table = Table()
    for name in ["video", "background", "locomotion", "grooming", "turning", "rearing", "scratch"]:
        table.add_column(name)
    table.add_row("a_rather_long_video_name_000", *["1234"] * 6)
    console.print(table)
    out = capsys.readouterr().out
    assert "a_rather_long_video_name_000" in out
    assert "locomotion" in out and "…" not in out


def test_warnings_print_as_one_line_without_file_and_line(capsys):
    import warnings

    from ethogram.cli.main import show_warnings_briefly

    original = warnings.showwarning
    try:
        show_warnings_briefly()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("vid.mp4: the crops may miss the animal", stacklevel=1)
    finally:
        warnings.showwarning = original
    err = capsys.readouterr().err
    assert err.strip() == "warning: vid.mp4: the crops may miss the animal"
