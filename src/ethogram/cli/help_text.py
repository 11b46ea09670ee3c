"""Help texts of the commands, written as paragraphs in the source."""

from __future__ import annotations


def unwrap_help(text: str) -> str:
    """Join the lines of each paragraph, so the terminal (not the source) decides line breaks.

    Paragraphs are separated by blank lines; a paragraph whose lines are indented is kept as is.
    """
    paragraphs = []
    for para in text.strip().split("\n\n"):
        lines = para.split("\n")
        if any(line.startswith("  ") for line in lines):
            paragraphs.append(para)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)
