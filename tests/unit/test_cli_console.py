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
