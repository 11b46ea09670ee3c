"""Every relative link in README.md and docs/**/*.md points to a file, and heading, that exists."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Pages that other work in progress is writing; the guide links them before they land. Once such
# a page exists, links to it (and to its headings) are checked like any other.
PENDING_PAGES: set[Path] = set()  # pages linked before they are written

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are examples)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors for a Markdown page's headings (duplicates get -1, -2, ...)."""
    anchors = set()
    seen: Counter[str] = Counter()
    for heading in _HEADING.findall(_FENCE.sub("", text)):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return anchors


@cache
def _anchors_of(page: Path) -> frozenset[str]:
    return frozenset(heading_anchors(page.read_text(encoding="utf-8")))


def broken_links(page: Path, pending: set[Path] = frozenset()) -> list[str]:
    """Relative links of ``page`` whose file or heading does not exist, as readable strings."""
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if _SCHEME.match(target):
            continue  # http:, https:, mailto: ...
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            if resolved not in pending:
                broken.append(f"{target}: no file {resolved}")
            continue
        if anchor and resolved.suffix == ".md":
            if anchor not in _anchors_of(resolved):
                broken.append(f"{target}: no heading #{anchor} in {resolved.name}")
    return broken


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_the_page_resolves(page: Path) -> None:
    assert broken_links(page, PENDING_PAGES) == []


def test_link_check_reports_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Title\n\n## Two words (`code.key`)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#two-words-codekey) [site](https://example.org/x.md) "
        "[gone](missing.md) [bad anchor](other.md#nowhere) [self](#title-here)\n\n"
        "# Title here\n\n```\n[in code](also_missing.md)\n```\n"
    )
    assert broken_links(page) == [
        f"missing.md: no file {tmp_path / 'missing.md'}",
        "other.md#nowhere: no heading #nowhere in other.md",
    ]


def test_pending_page_is_accepted_only_while_it_is_pending(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("[guide](gui.md)\n")
    assert broken_links(page, {tmp_path / "gui.md"}) == []
    assert len(broken_links(page)) == 1


def test_repeated_headings_get_numbered_anchors() -> None:
    assert heading_anchors("# Speed\n\n## Speed\n\n### Speed (fast)\n") == {
        "speed",
        "speed-1",
        "speed-fast",
    }
