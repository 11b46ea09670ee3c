"""The shared progress bars: same items through, a bar on stderr only when enabled."""

from __future__ import annotations

from ethogram.progress import progress_bar, progress_iter


def test_progress_iter_passes_every_item_and_draws_only_when_enabled(capsys):
    assert list(progress_iter(iter("abc"), 3, "letters", enabled=False)) == ["a", "b", "c"]
    assert capsys.readouterr().err == ""
    assert list(progress_iter(iter("abc"), 3, "letters", enabled=True)) == ["a", "b", "c"]
    err = capsys.readouterr().err
    assert "letters" in err and "3/3" in err


def test_progress_bar_counts_steps_and_shows_a_status(capsys):
    with progress_bar(4, "videos", enabled=True) as bar:
        bar.status("mouse_01")
        bar()
        bar.advance(3)
    err = capsys.readouterr().err
    assert "videos" in err and "4/4" in err and "mouse_01" in err
    with progress_bar(4, "videos", enabled=False) as bar:
        bar.status("ignored")
        bar(2)
    assert capsys.readouterr().err == ""
