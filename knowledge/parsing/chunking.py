"""Sections into overlapping chunks for the index."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from knowledge.parsing.base import Chunk, Section

_PARAGRAPH_BREAK = re.compile(r"\n\n")
# Western sentence ends need a following space ("e.g.5" is not an end); CJK
# full stops are written without one.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)|[。！？]")


def chunk(sections: Sequence[Section], *, size: int = 1200, overlap: int = 200) -> list[Chunk]:
    """Split sections into overlapping chunks of at most `size` characters.

    Chunks never cross a section, so each keeps its exact page and nearest
    heading. Cuts prefer a paragraph break, then a sentence end, then a line
    break, then a space, looking only in the back half of the window so chunks
    stay near `size`; a single longer "word" is cut hard. Each chunk after the
    first in a section repeats about `overlap` characters (from a word start)
    so a fact on a boundary is whole in at least one chunk.
    """
    if size < 50:
        raise ValueError("size must be at least 50 characters")
    if not 0 <= overlap <= size // 2:
        raise ValueError("overlap must be between 0 and half of size")
    chunks: list[Chunk] = []
    for section in sections:
        for piece in _split(section.text, size=size, overlap=overlap):
            chunks.append(
                Chunk(
                    index=len(chunks),
                    page=section.page,
                    heading=section.heading,
                    text=piece,
                    char_count=len(piece),
                )
            )
    return chunks


def _split(text: str, *, size: int, overlap: int) -> Iterator[str]:
    text = text.strip()
    length = len(text)
    start = 0
    while start < length:
        end = min(start + size, length)
        if end < length:
            end = _cut_point(text, start=start, end=end)
        piece = text[start:end].strip()
        if piece:
            yield piece
        if end >= length:
            return
        start = _next_start(text, previous_start=start, end=end, overlap=overlap)


def _cut_point(text: str, *, start: int, end: int) -> int:
    """Best place to end a chunk in text[start:end], searching its back half."""
    floor = start + (end - start) // 2
    window = text[floor:end]
    last_paragraph = window.rfind("\n\n")
    if last_paragraph >= 0:
        return floor + last_paragraph + 2
    last_sentence = None
    for match in _SENTENCE_END.finditer(window):
        last_sentence = match
    if last_sentence is not None:
        return floor + last_sentence.end()
    for separator in ("\n", " "):
        position = window.rfind(separator)
        if position >= 0:
            return floor + position + 1
    return end


def _next_start(text: str, *, previous_start: int, end: int, overlap: int) -> int:
    """Where the next chunk starts: `overlap` back from `end`, moved to a word start."""
    if overlap == 0:
        return end
    candidate = max(end - overlap, previous_start + 1)
    window = text[candidate:end]
    # Prefer a sentence start in the first half of the overlap (so at least
    # half of the overlap survives), then a word start.
    sentence = _SENTENCE_END.search(text, candidate, candidate + overlap // 2)
    if sentence is not None and sentence.end() < end:
        return sentence.end()
    if candidate > 0 and not text[candidate - 1].isspace():
        space = re.search(r"\s", window)
        if space is None:
            return candidate  # one long token: cut inside it rather than lose overlap
        candidate += space.end()
    return candidate if candidate < end else end
