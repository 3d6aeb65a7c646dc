"""PDF (pypdf): pages, and headings from the bookmarks."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from knowledge.parsing.base import (
    Budget,
    DocumentRejected,
    Limits,
    ProgressCallback,
    RejectionCode,
    Section,
    corrupt,
    normalise_inline,
    normalise_text,
    report,
)


def open_pdf(data: bytes, *, limits: Limits) -> Any:
    """Open a PDF, refusing truncated, corrupt, locked and over-long files."""
    from pypdf import PdfReader

    # A PDF ends with %%EOF; without it the upload or download was cut short.
    # Trailing whitespace and NULs are common harmless padding.
    if b"%%EOF" not in data.rstrip(b"\x00\r\n\t\x0c ")[-1024:]:
        raise DocumentRejected(
            code=RejectionCode.TRUNCATED,
            reason=(
                "The PDF is incomplete; it was probably cut off while uploading or "
                "downloading. Download the original again and re-upload it."
            ),
        )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to restrict printing or editing and
            # open with an empty password; those are fine to read.
            try:
                unlocked = bool(reader.decrypt(""))
            except Exception:  # any failure means we cannot read it
                unlocked = False
            if not unlocked:
                raise DocumentRejected(
                    code=RejectionCode.ENCRYPTED,
                    reason=(
                        "This PDF is password-protected. Save a copy without the "
                        "password (or print it to a new PDF) and upload that."
                    ),
                )
        page_count = len(reader.pages)
    except DocumentRejected:
        raise
    except Exception as error:  # hostile PDFs raise anything; all mean damaged
        raise corrupt("PDF") from error
    if page_count == 0:
        raise corrupt("PDF")
    if page_count > limits.max_pages:
        raise DocumentRejected(
            code=RejectionCode.TOO_MANY_PAGES,
            reason=(
                f"The PDF has {page_count} pages; the limit is {limits.max_pages}. "
                "Split it into smaller files and upload them separately."
            ),
        )
    return reader




def _pdf_outline(reader: Any) -> dict[int, list[str]]:
    """Bookmark titles per 0-based page: the only headings a PDF states reliably."""
    titles: dict[int, list[str]] = {}
    seen = 0

    def walk(items: Sequence[Any]) -> None:
        nonlocal seen
        for item in items:
            if seen >= 10_000:  # a hostile outline should not cost more than pages do
                return
            if isinstance(item, list):
                walk(item)
                continue
            seen += 1
            try:
                page = reader.get_destination_page_number(item)
                title = normalise_inline(str(item.title or ""))
            except Exception:  # noqa: S112 - a broken bookmark only loses a heading
                continue
            if page is not None and page >= 0 and title:
                titles.setdefault(page, []).append(title[:300])

    try:
        walk(reader.outline)
    except Exception:  # same: headings are a bonus, text is the point
        return {}
    return titles


def extract(
    data: bytes, *, limits: Limits, on_progress: ProgressCallback | None
) -> list[Section]:
    reader = open_pdf(data, limits=limits)
    outline = _pdf_outline(reader)
    total = len(reader.pages)
    budget = Budget(limits)
    sections: list[Section] = []
    heading = ""
    report(on_progress, 0, total)
    for index, page in enumerate(reader.pages):
        budget.check_time()
        try:
            raw = page.extract_text()
        except Exception as error:  # see open_pdf
            raise DocumentRejected(
                code=RejectionCode.CORRUPT,
                reason=(
                    f"Page {index + 1} of the PDF is damaged and can't be read. Open the "
                    "file on your computer, save a fresh copy, and upload that."
                ),
            ) from error
        text = normalise_text(raw or "")
        budget.add_chars(len(text))
        heading = _split_page_at_headings(
            text=text,
            page=index + 1,
            titles=outline.get(index, []),
            heading=heading,
            into=sections,
        )
        report(on_progress, index + 1, total)
    if not any(section.text for section in sections):
        raise DocumentRejected(
            code=RejectionCode.NO_TEXT,
            reason=(
                "This PDF has no selectable text; it is probably a scan or a picture of "
                "text. Run it through OCR (text recognition), or upload the original "
                "document it was made from."
            ),
        )
    return [section for section in sections if section.text]


def _split_page_at_headings(
    *, text: str, page: int, titles: list[str], heading: str, into: list[Section]
) -> str:
    """Append the page's sections, cut where each bookmark title appears.

    Returns the heading in force at the end of the page, which carries over.
    """
    cursor = 0
    for title in titles:
        # Only at a line start: the same words inside a sentence are not the heading.
        words = r"\s+".join(re.escape(word) for word in title.split())
        found = re.compile(rf"(?:^|\n)[ \t]*{words}", re.IGNORECASE).search(text, cursor)
        if found is None:
            # The bookmark points at this page but its words are not in the
            # text layer; the best we can say is "from here on".
            if text[cursor:].strip() and cursor:
                into.append(Section(page=page, heading=heading, text=text[cursor:].strip()))
                cursor = len(text)
            heading = title
            continue
        before = text[cursor : found.start()].strip()
        if before:
            into.append(Section(page=page, heading=heading, text=before))
        heading = title
        cursor = found.end()
    rest = text[cursor:].strip()
    if rest:
        into.append(Section(page=page, heading=heading, text=rest))
    return heading
