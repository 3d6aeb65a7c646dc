"""What every format shares: kinds, limits, the rejection, sections and how
they are built (budget, builder), text normalisation. No Django import."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

MB = 1024 * 1024

# Called as on_progress(done, total) after each unit of work (a PDF page; one
# step for formats without pages), so the UI can show "page 12 of 80".
ProgressCallback = Callable[[int, int], None]


class DocumentKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    TEXT = "txt"
    MARKDOWN = "md"
    CSV = "csv"
    HTML = "html"


# The extension decides what we *expect*; content sniffing then checks the claim.
KIND_BY_EXTENSION: dict[str, DocumentKind] = {
    ".pdf": DocumentKind.PDF,
    ".docx": DocumentKind.DOCX,
    ".txt": DocumentKind.TEXT,
    ".md": DocumentKind.MARKDOWN,
    ".markdown": DocumentKind.MARKDOWN,
    ".csv": DocumentKind.CSV,
    ".html": DocumentKind.HTML,
    ".htm": DocumentKind.HTML,
}
SUPPORTED_SENTENCE = "Upload a PDF, Word (.docx), plain text, Markdown, CSV or HTML file."


class RejectionCode(StrEnum):
    UNSUPPORTED_TYPE = "unsupported_type"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    CONTENT_MISMATCH = "content_mismatch"
    NOT_TEXT = "not_text"
    ENCRYPTED = "encrypted"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_MUCH_TEXT = "too_much_text"
    ARCHIVE_TOO_LARGE = "archive_too_large"
    TOO_MANY_ENTRIES = "too_many_entries"
    NO_TEXT = "no_text"
    TOO_SLOW = "too_slow"


class DocumentRejected(Exception):
    """The file cannot be used; `reason` says why and what to do, in plain words."""

    def __init__(self, *, code: RejectionCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"DocumentRejected(code={self.code.value!r}, reason={self.reason!r})"


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Upper bounds for one upload; a tenant plan may pass tighter ones."""

    max_bytes: int = 25 * MB
    max_pages: int = 500
    max_chars: int = 3_000_000
    # A .docx is a zip: these bound what unpacking may cost before we unpack.
    max_docx_entries: int = 1_000
    max_docx_unpacked_bytes: int = 100 * MB
    # Wall-clock budget for extraction, checked between pages; the worker's own
    # time limit is the hard stop, this one turns a slow file into a clear reason.
    max_seconds: float = 120.0


@dataclass(frozen=True, kw_only=True)
class Section:
    """A run of text that shares one page and one heading."""

    page: int | None
    heading: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Chunk:
    index: int
    page: int | None
    heading: str
    text: str
    char_count: int

    @property
    def indexable_text(self) -> str:
        """Heading plus text: what search indexes and embeddings should see."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def corrupt(what: str) -> DocumentRejected:
    return DocumentRejected(
        code=RejectionCode.CORRUPT,
        reason=(
            f"The {what} file is damaged and can't be read. Open it on your computer, "
            "save a fresh copy, and upload that."
        ),
    )


def too_much_text(limits: Limits) -> DocumentRejected:
    return DocumentRejected(
        code=RejectionCode.TOO_MUCH_TEXT,
        reason=(
            f"The file contains more than {limits.max_chars:,} characters of text, the "
            "limit for one file. Split it into smaller files and upload them separately."
        ),
    )


def megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB" if size < 10 * MB else f"{size // MB} MB"


def report(on_progress: ProgressCallback | None, done: int, total: int) -> None:
    if on_progress is not None:
        on_progress(done, total)


def require_text(sections: list[Section], *, what: str) -> list[Section]:
    if not sections:
        raise DocumentRejected(
            code=RejectionCode.NO_TEXT,
            reason=f"The {what} contains no text we can use. Check that it is the right file.",
        )
    return sections


class Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.chars = 0

    def add_chars(self, count: int) -> None:
        self.chars += count
        if self.chars > self.limits.max_chars:
            raise too_much_text(self.limits)

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.max_seconds:
            raise DocumentRejected(
                code=RejectionCode.TOO_SLOW,
                reason=(
                    "Reading this file took too long, so we stopped. Split it into smaller "
                    "files, or save it again (for example “Save as PDF”) and re-upload."
                ),
            )


class SectionBuilder:
    """Collects text pieces into sections, starting a new one on heading or page change."""

    def __init__(self, *, limits: Limits, page: int | None) -> None:
        self.limits = limits
        self.budget = Budget(limits)
        self.page = page
        self.current_heading = ""
        self.parts: list[str] = []
        self.sections: list[Section] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def has_text(self) -> bool:
        return bool(self.sections) or any(part.strip() for part in self.parts)

    def heading(self, title: str) -> None:
        if not title:
            return
        self._flush()
        self.current_heading = title[:300]

    def next_page(self) -> None:
        if self.page is None:
            return
        self._flush()
        self.page += 1
        if self.page > self.limits.max_pages:
            raise DocumentRejected(
                code=RejectionCode.TOO_MANY_PAGES,
                reason=(
                    f"The document has more than {self.limits.max_pages} pages, the limit "
                    "for one file. Split it into smaller files and upload them separately."
                ),
            )

    def finish(self) -> list[Section]:
        self._flush()
        return self.sections

    def _flush(self) -> None:
        text = normalise_text("".join(self.parts))
        self.parts = []
        # Counted after normalisation so markup whitespace does not use up the limit.
        self.budget.add_chars(len(text))
        if text:
            self.sections.append(Section(page=self.page, heading=self.current_heading, text=text))


# ------------------------------------------------------------------- normalisation

# Invisible characters that only get in the way of search and display: soft
# hyphen, zero-width space, word joiner, BOM, and bidi controls (which can make
# text display differently from what it says). ZWJ/ZWNJ stay: scripts need them.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x200B, 0x2060, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """NFKC (ligatures like "ﬁ" from PDFs become "fi"), drop invisible and
    control characters, unify line endings, collapse spaces, keep at most one
    blank line between paragraphs."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text.translate(_INVISIBLE))
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def normalise_inline(text: str) -> str:
    return re.sub(r"\s+", " ", normalise_text(text)).strip()
