"""The shared progress bars: same items through, a bar on stderr only when enabled."""

from __future__ import annotations

import pytest

from ethogram.progress import progress_bar, progress_iter, reporting_to


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


def test_an_installed_reporter_receives_events_instead_of_a_drawn_bar(capsys):
    events = []
    with reporting_to(events.append):
        with progress_bar(3, "videos") as outer:
            outer.status("mouse_01")
            assert list(progress_iter(iter("ab"), None, "frames")) == ["a", "b"]
            outer.advance(3)
    assert capsys.readouterr().err == ""
    seen = [(e.kind, e.description, e.completed, e.total, e.status) for e in events]
    assert seen == [
        ("start", "videos", 0, 3, ""),
        ("status", "videos", 0, 3, "mouse_01"),
        ("start", "frames", 0, None, ""),
        ("advance", "frames", 1, None, ""),
        ("advance", "frames", 2, None, ""),
        ("end", "frames", 2, None, ""),
        ("advance", "videos", 3, 3, "mouse_01"),
        ("end", "videos", 3, 3, "mouse_01"),
    ]
    assert len({e.bar for e in events}) == 2  # nested bars are told apart


def test_the_reporter_is_removed_after_its_block_and_disabled_bars_send_nothing(capsys):
    events = []
    with reporting_to(events.append):
        with progress_bar(2, "quiet", enabled=False) as bar:
            bar()
        with pytest.raises(RuntimeError):
            with progress_bar(2, "failing") as bar:
                raise RuntimeError("stop")
    assert [(e.kind, e.description) for e in events] == [("start", "failing"), ("end", "failing")]
    with progress_bar(1, "drawn") as bar:
        bar()
    assert "drawn" in capsys.readouterr().err and len(events) == 2
