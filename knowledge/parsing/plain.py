"""Plain text: form feeds are pages, short title-like paragraphs are headings."""

from __future__ import annotations

import re

from knowledge.cjk import has_cjk
from knowledge.parsing.base import Limits, Section, SectionBuilder, normalise_inline, require_text


def extract(text: str, *, limits: Limits) -> list[Section]:
    # A form feed is a page break in plain text (pdftotext and printers emit
    # them), so honour it; otherwise pages are unknown.
    pages = text.split("\f")
    numbered = len(pages) > 1
    builder = SectionBuilder(limits=limits, page=1 if numbered else None)
    for number, page_text in enumerate(pages):
        if number:
            builder.next_page()
        # Headings are sections, as in Markdown and Word files, so the same
        # document is chunked (and ranked) alike whatever its format.
        blocks = _BLANK_LINE.split(page_text)
        for index, block in enumerate(blocks):
            if index + 1 < len(blocks) and _is_plain_heading(block):
                builder.heading(normalise_inline(block))
            else:
                builder.add(block + "\n\n")
    return require_text(builder.finish(), what="file")


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_PLAIN_HEADING = re.compile(r"^[^\W_][^\n]{0,78}$")  # one line, starts with a letter or digit


# Sentence and clause ends, Western and East Asian (full-width) punctuation.
_SENTENCE_PUNCTUATION = ".,;!?\u3001\u3002\uff0c\uff0e\uff1b\uff01\uff1f"
# Japanese is written without spaces, so "ten words" does not bound a line of
# it: a Korean/Japanese heading is at most this many characters.
_CJK_HEADING_CHARS = 30


def _is_plain_heading(block: str) -> bool:
    """A paragraph of its own that reads as a title: one short line, at most ten
    words (30 characters in Korean or Japanese), not ending like a sentence
    ("Per diem abroad", "3. LEAVE", "対象と日数")."""
    block = block.strip()
    return (bool(_PLAIN_HEADING.match(block)) and len(block.split()) <= 10
            and block[-1] not in _SENTENCE_PUNCTUATION and any(c.isalpha() for c in block)
            and (len(block) <= _CJK_HEADING_CHARS or not has_cjk(block)))
