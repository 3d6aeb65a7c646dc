"""The one seam to file parsing: validate, extract, normalise and chunk uploads.

This module dispatches; each format has its own module (pdf, word, plain,
markdown, delimited, html), sharing base (sections, limits, rejections).

Pure Python with no Django import, so the ingest task, the admin upload form and
benchmarks all call the same code. The flow is::

    kind = validate(name=..., data=..., limits=limits)          # cheap, before storing
    sections = extract(kind=kind, data=..., limits=limits)      # text with page/heading
    chunks = chunk(sections, size=1200, overlap=200)            # ready to index

Every problem with the *file* raises `DocumentRejected`, whose `reason` is a
sentence for the person who uploaded it and whose `code` is stable for logs and
tests. Programmer errors (bad arguments) raise ValueError as usual.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.parsing import delimited, html, markdown, pdf, plain, word
from knowledge.parsing.base import (
    MB,
    Chunk,
    DocumentKind,
    DocumentRejected,
    Limits,
    ProgressCallback,
    RejectionCode,
    Section,
    normalise_text,
    report,
)
from knowledge.parsing.chunking import chunk
from knowledge.parsing.encoding import decode_text
from knowledge.parsing.names import sanitize_display_name
from knowledge.parsing.sniffing import kind_from_name, load, sniff

__all__ = [
    "MB",
    "Chunk",
    "DocumentKind",
    "DocumentRejected",
    "Limits",
    "ProgressCallback",
    "RejectionCode",
    "Section",
    "chunk",
    "extract",
    "normalise_text",
    "read_document",
    "sanitize_display_name",
    "validate",
]


def validate(*, name: str, data: bytes | Path, limits: Limits | None = None) -> DocumentKind:
    """Check an upload before anything is stored or parsed; return its kind.

    Runs every check that can be made without extracting the text: type,
    size, content sniffing, encryption, page count, zip-bomb inventory and text
    decoding. Raises DocumentRejected with a reason the uploader can act on.
    """
    limits = limits or Limits()
    kind = kind_from_name(name)
    payload = load(data, limits=limits)
    sniff(kind=kind, data=payload)
    if kind is DocumentKind.PDF:
        pdf.open_pdf(payload, limits=limits)
    elif kind is DocumentKind.DOCX:
        word.inspect(payload, limits=limits)
    else:
        decode_text(payload, limits=limits, html=kind is DocumentKind.HTML)
    return kind


def read_document(
    *,
    name: str,
    data: bytes | Path,
    limits: Limits | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[Section]:
    """validate() then extract(): the usual call from the ingest task."""
    limits = limits or Limits()
    payload = load(data, limits=limits)
    kind = validate(name=name, data=payload, limits=limits)
    return extract(kind=kind, data=payload, limits=limits, on_progress=on_progress)


def extract(
    *,
    kind: DocumentKind,
    data: bytes | Path,
    limits: Limits | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[Section]:
    """Text of a validated document as sections with page (1-based or None) and heading.

    Pages are known for PDF, for DOCX files last saved by Word, and for text
    files with form feeds; otherwise `page` is None. Text is normalised (see
    normalise_text). Still raises DocumentRejected for what only extraction can
    find: too much text, no text at all, damaged pages, the time budget.
    """
    limits = limits or Limits()
    payload = load(data, limits=limits)
    kind = DocumentKind(kind)
    sniff(kind=kind, data=payload)  # cheap, and extract may be called without validate
    if kind is DocumentKind.PDF:
        return pdf.extract(payload, limits=limits, on_progress=on_progress)
    if kind is DocumentKind.DOCX:
        return word.extract(payload, limits=limits, on_progress=on_progress)
    text = decode_text(payload, limits=limits, html=kind is DocumentKind.HTML)
    report(on_progress, 0, 1)
    extractors = {
        DocumentKind.TEXT: plain.extract,
        DocumentKind.MARKDOWN: markdown.extract,
        DocumentKind.CSV: delimited.extract,
        DocumentKind.HTML: html.extract,
    }
    sections = extractors[kind](text, limits=limits)
    report(on_progress, 1, 1)
    return sections


