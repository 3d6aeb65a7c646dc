"""The one seam to file parsing: validate, extract, normalise and chunk uploads.

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

import codecs
import csv
import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any

from knowledge.cjk import has_cjk

__all__ = [
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
_KIND_BY_EXTENSION: dict[str, DocumentKind] = {
    ".pdf": DocumentKind.PDF,
    ".docx": DocumentKind.DOCX,
    ".txt": DocumentKind.TEXT,
    ".md": DocumentKind.MARKDOWN,
    ".markdown": DocumentKind.MARKDOWN,
    ".csv": DocumentKind.CSV,
    ".html": DocumentKind.HTML,
    ".htm": DocumentKind.HTML,
}
_SUPPORTED_SENTENCE = "Upload a PDF, Word (.docx), plain text, Markdown, CSV or HTML file."


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


# --------------------------------------------------------------------------- names

_MAX_COMBINING_RUN = 2  # enough for real accents; stops "Zalgo" stacks


def sanitize_display_name(name: str, *, max_length: int = 120) -> str:
    """A safe, short version of an uploaded file's name, for showing to people.

    Never use it as a storage path: storage names are ours, not the uploader's.
    """
    if max_length < 16:
        raise ValueError("max_length must be at least 16")
    # NFKC first so full-width slashes and similar look-alikes become real ones
    # before we strip the directory part.
    text = unicodedata.normalize("NFKC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    kept: list[str] = []
    combining_run = 0
    for char in text:
        category = unicodedata.category(char)
        if category in ("Zs", "Zl", "Zp") or char in "\t\n\r":
            kept.append(" ")
            combining_run = 0
        elif category[0] == "C":
            # Control, format (bidi overrides that disguise "exe" as "pdf"),
            # surrogate, private-use and unassigned characters all go.
            continue
        elif category == "Mn":
            combining_run += 1
            if combining_run <= _MAX_COMBINING_RUN:
                kept.append(char)
        else:
            kept.append(char)
            combining_run = 0
    text = re.sub(r" +", " ", "".join(kept)).strip(" .")
    if not text:
        return "document"
    if len(text) <= max_length:
        return text
    stem, dot, extension = text.rpartition(".")
    if dot and stem and 0 < len(extension) <= 10:
        keep = max_length - len(extension) - 2
        return f"{stem[:keep].rstrip()}\u2026.{extension}"
    return text[: max_length - 1].rstrip() + "\u2026"


# ---------------------------------------------------------------------- validation


def validate(*, name: str, data: bytes | Path, limits: Limits | None = None) -> DocumentKind:
    """Check an upload before anything is stored or parsed; return its kind.

    Runs every check that can be made without extracting the text: type,
    size, content sniffing, encryption, page count, zip-bomb inventory and text
    decoding. Raises DocumentRejected with a reason the uploader can act on.
    """
    limits = limits or Limits()
    kind = _kind_from_name(name)
    payload = _load(data, limits=limits)
    _sniff(kind=kind, data=payload)
    if kind is DocumentKind.PDF:
        _open_pdf(payload, limits=limits)
    elif kind is DocumentKind.DOCX:
        _inspect_docx(payload, limits=limits)
    else:
        _decode_text(payload, limits=limits, html=kind is DocumentKind.HTML)
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
    payload = _load(data, limits=limits)
    kind = validate(name=name, data=payload, limits=limits)
    return extract(kind=kind, data=payload, limits=limits, on_progress=on_progress)


def _kind_from_name(name: str) -> DocumentKind:
    suffix = PurePosixPath(sanitize_display_name(name).lower()).suffix
    kind = _KIND_BY_EXTENSION.get(suffix)
    if kind is None:
        described = f"“{suffix}” files" if suffix else "files without an extension"
        raise DocumentRejected(
            code=RejectionCode.UNSUPPORTED_TYPE,
            reason=f"We can't read {described}. {_SUPPORTED_SENTENCE}",
        )
    return kind


def _load(data: bytes | Path, *, limits: Limits) -> bytes:
    # Check a path's size before reading it, so an oversized file never lands
    # in memory.
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    if size == 0:
        raise DocumentRejected(
            code=RejectionCode.EMPTY,
            reason="The file is empty. Check that you picked the right file and upload it again.",
        )
    if size > limits.max_bytes:
        raise DocumentRejected(
            code=RejectionCode.TOO_LARGE,
            reason=(
                f"The file is {_megabytes(size)}, larger than the {_megabytes(limits.max_bytes)} "
                "limit. Split it into smaller files or remove images, then upload again."
            ),
        )
    return data.read_bytes() if isinstance(data, Path) else bytes(data)


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB" if size < 10 * MB else f"{size // MB} MB"


# Signatures of things people commonly upload by mistake; used only to make the
# mismatch message say what the file really is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a zip archive (for example an Office file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an older Office file (.doc, .xls) or a protected one"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
_OLE_MAGIC = _SIGNATURES[2][0]
# Short enough to begin real text ("MZ Logistics report", "GIF8 format notes"):
# for text files these only describe a failure, they never cause one.
_WEAK_SIGNATURES = (b"MZ", b"GIF8")
# Office writes a password-protected .docx as an OLE container with this stream.
_OLE_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


def _looks_like(data: bytes) -> str | None:
    head = data[:16]
    for magic, description in _SIGNATURES:
        if head.startswith(magic):
            return description
    return None


def _sniff(*, kind: DocumentKind, data: bytes) -> None:
    actual = _looks_like(data)
    if kind is DocumentKind.PDF:
        # The spec allows junk before the header; Acrobat looks in the first 1 KB.
        if b"%PDF-" not in data[:1024]:
            raise _mismatch(expected="a PDF", actual=actual)
    elif kind is DocumentKind.DOCX:
        if data.startswith(_OLE_MAGIC):
            if _OLE_ENCRYPTION_STREAM in data:
                raise DocumentRejected(
                    code=RejectionCode.ENCRYPTED,
                    reason=(
                        "This Word document is password-protected. Remove the password in "
                        "Word (File › Info › Protect Document) and upload it again."
                    ),
                )
            raise DocumentRejected(
                code=RejectionCode.CONTENT_MISMATCH,
                reason=(
                    "This is an older Word (.doc) file renamed to .docx. Open it in Word, "
                    "save it as .docx, and upload it again."
                ),
            )
        if not data.startswith(b"PK\x03\x04"):
            raise _mismatch(expected="a Word (.docx) document", actual=actual)
    elif actual is not None and not data.startswith(_WEAK_SIGNATURES):
        raise _mismatch(expected="a text file", actual=actual)


def _mismatch(*, expected: str, actual: str | None) -> DocumentRejected:
    what = f"is actually {actual}" if actual else "is not"
    return DocumentRejected(
        code=RejectionCode.CONTENT_MISMATCH,
        reason=(
            f"The file's name says it is {expected}, but its content {what}"
            f"{'' if actual else ' ' + expected}. "
            "Upload the original file, or rename it to match what it is."
        ),
    )


# ------------------------------------------------------------------------------ PDF


def _open_pdf(data: bytes, *, limits: Limits) -> Any:
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
        raise _corrupt("PDF") from error
    if page_count == 0:
        raise _corrupt("PDF")
    if page_count > limits.max_pages:
        raise DocumentRejected(
            code=RejectionCode.TOO_MANY_PAGES,
            reason=(
                f"The PDF has {page_count} pages; the limit is {limits.max_pages}. "
                "Split it into smaller files and upload them separately."
            ),
        )
    return reader


def _corrupt(what: str) -> DocumentRejected:
    return DocumentRejected(
        code=RejectionCode.CORRUPT,
        reason=(
            f"The {what} file is damaged and can't be read. Open it on your computer, "
            "save a fresh copy, and upload that."
        ),
    )


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
                title = _normalise_inline(str(item.title or ""))
            except Exception:  # noqa: S112 - a broken bookmark only loses a heading
                continue
            if page is not None and page >= 0 and title:
                titles.setdefault(page, []).append(title[:300])

    try:
        walk(reader.outline)
    except Exception:  # same: headings are a bonus, text is the point
        return {}
    return titles


def _extract_pdf(
    data: bytes, *, limits: Limits, on_progress: ProgressCallback | None
) -> list[Section]:
    reader = _open_pdf(data, limits=limits)
    outline = _pdf_outline(reader)
    total = len(reader.pages)
    budget = _Budget(limits)
    sections: list[Section] = []
    heading = ""
    _report(on_progress, 0, total)
    for index, page in enumerate(reader.pages):
        budget.check_time()
        try:
            raw = page.extract_text()
        except Exception as error:  # see _open_pdf
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
        _report(on_progress, index + 1, total)
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


# ----------------------------------------------------------------------------- DOCX

_DOCX_REQUIRED = ("[Content_Types].xml", "word/document.xml")


def _inspect_docx(data: bytes, *, limits: Limits) -> None:
    """Check the zip's own inventory before anything is decompressed.

    zipfile refuses to inflate an entry past its declared size (the CRC check
    fails), so bounding the declared sizes bounds what python-docx can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise _corrupt("Word") from error
    if len(entries) > limits.max_docx_entries:
        raise DocumentRejected(
            code=RejectionCode.TOO_MANY_ENTRIES,
            reason=(
                f"This Word file is packed with {len(entries)} internal parts; the limit is "
                f"{limits.max_docx_entries}. Save it again from Word (which removes "
                "leftovers) or split it, then upload it again."
            ),
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_docx_unpacked_bytes:
        raise DocumentRejected(
            code=RejectionCode.ARCHIVE_TOO_LARGE,
            reason=(
                f"This Word file would expand to {_megabytes(unpacked)} when opened, more "
                f"than the {_megabytes(limits.max_docx_unpacked_bytes)} limit. Remove large "
                "images or split the document, then upload it again."
            ),
        )
    names = {entry.filename for entry in entries}
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise DocumentRejected(
            code=RejectionCode.ENCRYPTED,
            reason=(
                "Parts of this Word file are encrypted. Save a copy without a password "
                "and upload that."
            ),
        )
    if not all(required in names for required in _DOCX_REQUIRED):
        raise DocumentRejected(
            code=RejectionCode.CONTENT_MISMATCH,
            reason=(
                "This file is a zip archive but not a Word document. "
                "Upload the .docx file itself (not a zipped folder or another Office file)."
            ),
        )


def _extract_docx(
    data: bytes, *, limits: Limits, on_progress: ProgressCallback | None
) -> list[Section]:
    import docx
    from docx.oxml.ns import qn

    _inspect_docx(data, limits=limits)
    _report(on_progress, 0, 1)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        styles = _docx_heading_styles(document)
        # Text boxes are stored twice (modern drawing + VML fallback for old
        # Word); reading both would duplicate their text. The tree is ours to edit.
        for fallback in list(body.iter(_MC_FALLBACK)):
            fallback.getparent().remove(fallback)
    except Exception as error:  # python-docx raises many types on bad input
        raise _corrupt("Word") from error

    # Word records where pages broke the last time it laid the file out
    # (w:lastRenderedPageBreak). When present, that is the page a reader saw; when
    # absent (files made by other tools) pages are unknown rather than guessed.
    paginated = next(body.iter(qn("w:lastRenderedPageBreak")), None) is not None
    builder = _SectionBuilder(limits=limits, page=1 if paginated else None)
    tags = _DocxTags(qn)
    for block in _docx_children(body, tags, wanted=(tags.p, tags.tbl)):
        if block.tag == tags.p:
            style_id = _docx_style_id(block, tags)
            level = styles.get(style_id or "")
            if level is not None:
                title = _normalise_inline(
                    "".join(piece for piece in _docx_runs(block, tags) if piece is not _PAGE)
                )
                # Word marks a page break at the start of the paragraph that opens
                # the page, so turn the page before the heading takes effect.
                _count_pages(block, tags, builder)
                builder.heading(title)
                continue
            for piece in _docx_runs(block, tags):
                if piece is _PAGE:
                    builder.next_page()
                else:
                    builder.add(piece)
            builder.add("\n\n")
        elif block.tag == tags.tbl:
            for row in _docx_children(block, tags, wanted=(tags.tr,)):
                first = True
                for cell in _docx_children(row, tags, wanted=(tags.tc,)):
                    if not first:
                        builder.add(" | ")
                    first = False
                    for piece in _docx_runs(cell, tags, paragraph_gap=" "):
                        if piece is _PAGE:
                            builder.next_page()
                        else:
                            builder.add(piece)
                builder.add("\n")
            builder.add("\n")
    sections = builder.finish()
    _report(on_progress, 1, 1)
    return _require_text(sections, what="Word document")


class _DocxTags:
    def __init__(self, qn: Callable[[str], str]) -> None:
        self.p, self.tbl, self.tr, self.tc = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
        self.t, self.tab, self.br, self.cr = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
        self.page_break = qn("w:lastRenderedPageBreak")
        self.ppr, self.pstyle, self.val = qn("w:pPr"), qn("w:pStyle"), qn("w:val")
        self.levels = frozenset({self.p, self.tbl, self.tr, self.tc})


def _docx_children(element: Any, tags: _DocxTags, *, wanted: tuple[str, ...]) -> Iterator[Any]:
    """Wanted children in order, looking through wrappers such as content controls
    (w:sdt, used for cover pages and tables of contents) but never into a nested
    paragraph, table, row or cell, which belong to their own level."""
    for child in element.iterchildren():
        if child.tag in wanted:
            yield child
        elif child.tag not in tags.levels:
            yield from _docx_children(child, tags, wanted=wanted)


_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_PAGE = object()  # marker in a run stream: a rendered page break happened here


def _docx_runs(element: Any, tags: _DocxTags, *, paragraph_gap: str = "\n") -> Iterator[Any]:
    """Text pieces and page markers of an element, in document order.

    Walking the XML (rather than python-docx's paragraph.text) keeps page breaks
    in place and includes text inside hyperlinks and fields; w:delText (tracked
    deletions) and w:instrText (field codes) are different tags and so skipped.
    """
    for node in element.iter(tags.t, tags.tab, tags.br, tags.cr, tags.page_break, tags.p):
        tag = node.tag
        if tag == tags.t:
            if node.text:
                yield node.text
        elif tag == tags.tab:
            yield "\t"
        elif tag in (tags.br, tags.cr):
            yield "\n"
        elif tag == tags.page_break:
            yield _PAGE
        elif node is not element:  # a nested paragraph (table cell, text box)
            yield paragraph_gap


def _count_pages(block: Any, tags: _DocxTags, builder: _SectionBuilder) -> None:
    for _ in block.iter(tags.page_break):
        builder.next_page()


def _docx_style_id(paragraph: Any, tags: _DocxTags) -> str | None:
    properties = paragraph.find(tags.ppr)
    style = properties.find(tags.pstyle) if properties is not None else None
    return style.get(tags.val) if style is not None else None


def _docx_heading_styles(document: Any) -> dict[str, int]:
    """style_id -> heading level, for Title and Heading 1-9 (by name, any language id)."""
    levels: dict[str, int] = {}
    for style in document.styles:
        name = (getattr(style, "name", None) or "").strip().lower()
        style_id = getattr(style, "style_id", None)
        if not style_id:
            continue
        if name == "title":
            levels[style_id] = 0
        elif (found := re.fullmatch(r"heading\s*([1-9])", name)) is not None:
            levels[style_id] = int(found.group(1))
    return levels


# ------------------------------------------------------------------------ text-ish


def _decode_text(data: bytes, *, limits: Limits, html: bool = False) -> str:
    """Decode a text upload: BOM, then (HTML) declared charset, then UTF-8, then cp1252.

    cp1252 is the fallback because text that is not UTF-8 is, in practice,
    almost always from Windows in a Western language; it decodes nearly any
    bytes, so a control-character ratio afterwards tells text from binary.
    """
    text: str | None = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _try_decode(data, "utf-16")
    elif b"\x00" in data[:8192]:
        raise _not_text(data)
    if text is None and html:
        declared = _declared_charset(data)
        if declared:
            text = _try_decode(data, declared)
    if text is None:
        text = _try_decode(data, "utf-8-sig")
    if text is None:
        text = data.decode("cp1252", errors="replace")
    if len(text) > limits.max_chars * 2:
        # Markup and whitespace shrink later, so allow slack before refusing.
        raise _too_much_text(limits)
    sample = text[:65536]
    if len(_BINARY_CHARS.findall(sample)) > max(8, len(sample) // 100):
        raise _not_text(data)
    return text


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _declared_charset(data: bytes) -> str | None:
    found = _META_CHARSET.search(data[:4096])
    if found is None:
        return None
    name = found.group(1).decode("ascii", errors="ignore")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # A page we could read this far is ASCII-compatible; browsers likewise treat a
    # UTF-16/32 declaration in <meta> as a mistake.
    return None if codec.startswith(("utf-16", "utf-32")) else codec


# Control characters text never has, and the replacement character cp1252
# leaves for its five undefined bytes.
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")


def _not_text(data: bytes) -> DocumentRejected:
    actual = _looks_like(data)
    looks = f"it is actually {actual}" if actual else "it looks like binary data"
    return DocumentRejected(
        code=RejectionCode.NOT_TEXT,
        reason=(
            f"This file is not readable text; {looks} with a text file's name. "
            "Upload the original document, or save it as UTF-8 text."
        ),
    )


def _too_much_text(limits: Limits) -> DocumentRejected:
    return DocumentRejected(
        code=RejectionCode.TOO_MUCH_TEXT,
        reason=(
            f"The file contains more than {limits.max_chars:,} characters of text, the "
            "limit for one file. Split it into smaller files and upload them separately."
        ),
    )


def _extract_plain(text: str, *, limits: Limits) -> list[Section]:
    # A form feed is a page break in plain text (pdftotext and printers emit
    # them), so honour it; otherwise pages are unknown.
    pages = text.split("\f")
    numbered = len(pages) > 1
    builder = _SectionBuilder(limits=limits, page=1 if numbered else None)
    for number, page_text in enumerate(pages):
        if number:
            builder.next_page()
        # Headings are sections, as in Markdown and Word files, so the same
        # document is chunked (and ranked) alike whatever its format.
        blocks = _BLANK_LINE.split(page_text)
        for index, block in enumerate(blocks):
            if index + 1 < len(blocks) and _is_plain_heading(block):
                builder.heading(_normalise_inline(block))
            else:
                builder.add(block + "\n\n")
    return _require_text(builder.finish(), what="file")


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


_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MD_HIDDEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)


def _extract_markdown(text: str, *, limits: Limits) -> list[Section]:
    # Comments and inline script/style are invisible when rendered, so they are
    # not content; dropping them also removes a cheap hiding place for prompts.
    text = _MD_HIDDEN.sub(" ", text)
    builder = _SectionBuilder(limits=limits, page=None)
    fence: str | None = None
    pending: str | None = None  # previous line, held back in case it is a setext heading
    for line in text.splitlines():
        if fence is None and pending is not None and pending.strip():
            underline = _SETEXT_UNDERLINE.match(line)
            if underline is not None:
                builder.heading(_normalise_inline(pending))
                pending = None
                continue
        if pending is not None:
            builder.add(pending + "\n")
            pending = None
        fence_match = _FENCE.match(line)
        if fence_match is not None:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            builder.add(line + "\n")
            continue
        if fence is None:
            heading = _ATX_HEADING.match(line)
            if heading is not None:
                builder.heading(_normalise_inline(heading.group(2) or ""))
                continue
            pending = line
            continue
        builder.add(line + "\n")
    if pending is not None:
        builder.add(pending + "\n")
    return _require_text(builder.finish(), what="Markdown file")


def _extract_csv(text: str, *, limits: Limits) -> list[Section]:
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    builder = _SectionBuilder(limits=limits, page=None)
    try:
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        header = [_normalise_inline(cell) for cell in next(rows, [])]
        for row in rows:
            cells = [_normalise_inline(cell) for cell in row]
            if not any(cells):
                continue
            if len(cells) <= len(header) and any(header):
                # "Column: value" keeps each row meaningful after chunking cuts
                # it away from the header line.
                line = "; ".join(
                    f"{name}: {value}" if name else value
                    for name, value in zip(header, cells, strict=False)
                    if value
                )
            else:
                line = " | ".join(cells)
            # Blank line between rows: the chunker prefers to cut there.
            builder.add(line + "\n\n")
        if not builder.has_text() and any(header):
            builder.add(" | ".join(header))
    except csv.Error as error:
        raise _corrupt("CSV") from error
    return _require_text(builder.finish(), what="CSV file")


class _HtmlText(HTMLParser):
    """Visible text and headings of an HTML page; never attributes or scripts."""

    # Elements whose content is never visible prose (or is code).
    SKIP = frozenset(
        ["script", "style", "noscript", "template", "iframe", "object", "svg", "canvas"]
    )
    # No end tag ever comes for these, so they must never start a skip.
    VOID = frozenset(
        [
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "param",
            "source",
            "track",
            "wbr",
        ]
    )
    BLOCK = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "tr",
            "table",
            "section",
            "article",
            "header",
            "footer",
            "main",
            "nav",
            "aside",
            "blockquote",
            "pre",
            "hr",
            "form",
            "fieldset",
            "figure",
            "figcaption",
            "address",
            "details",
            "summary",
            "caption",
            "thead",
            "tbody",
            "tfoot",
        ]
    )
    HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self, builder: _SectionBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.heading_parts: list[str] | None = None
        self.title_parts: list[str] | None = None
        self.cells_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        if tag == "title":
            self.title_parts = []
            return
        if tag in self.SKIP or (tag not in self.VOID and _hidden(attrs)):
            self.skip_tag, self.skip_depth = tag, 1
            return
        if tag in self.HEADINGS:
            self._close_heading()
            self.heading_parts = []
        elif tag in self.BLOCK:
            self._block_break(tag)
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self._emit(" | ")
            self.cells_in_row += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Browsers ignore "/>" on non-void elements: <script/>alert(1)</script> runs
        # the script, so it must be skipped here too.
        if tag in self.VOID:
            if self.skip_tag is None and tag in self.BLOCK:
                self._block_break(tag)
        else:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag == "title" and self.title_parts is not None:
            title = _normalise_inline("".join(self.title_parts))
            self.title_parts = None
            if title and not self.builder.has_text():
                self.builder.heading(title)
        elif tag in self.HEADINGS:
            self._close_heading()
        elif tag in self.BLOCK:
            self._block_break(tag)

    def handle_data(self, data: str) -> None:
        if self.skip_tag is not None:
            return
        if self.title_parts is not None:
            self.title_parts.append(data)
        else:
            self._emit(data)

    def close(self) -> None:
        super().close()
        if self.title_parts is not None:  # unclosed <title>: what it swallowed is text
            self.builder.add("".join(self.title_parts))
            self.title_parts = None
        self._close_heading()

    def _emit(self, text: str) -> None:
        if self.heading_parts is not None:
            self.heading_parts.append(text)
        else:
            self.builder.add(text)

    def _block_break(self, tag: str) -> None:
        if tag == "tr":
            self.cells_in_row = 0
        self._emit("\n" if tag in ("br", "tr", "li") else "\n\n")

    def _close_heading(self) -> None:
        if self.heading_parts is None:
            return
        title = _normalise_inline("".join(self.heading_parts))
        self.heading_parts = None
        if len(title) > 300:
            # An unclosed <h1> swallowed the page: it was text, not a heading.
            self.builder.add(title + "\n\n")
        elif title:
            self.builder.heading(title)


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """Elements a browser would not show: hidden text is a favourite prompt-injection spot."""
    for name, value in attrs:
        if name == "hidden" or (name == "aria-hidden" and (value or "").lower() == "true"):
            return True
        if name == "style" and re.search(
            r"display\s*:\s*none|visibility\s*:\s*hidden", value or "", re.IGNORECASE
        ):
            return True
    return False


def _extract_html(text: str, *, limits: Limits) -> list[Section]:
    builder = _SectionBuilder(limits=limits, page=None)
    parser = _HtmlText(builder)
    parser.feed(text)
    parser.close()
    return _require_text(builder.finish(), what="HTML page")


# ------------------------------------------------------------------------- extract


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
    payload = _load(data, limits=limits)
    kind = DocumentKind(kind)
    _sniff(kind=kind, data=payload)  # cheap, and extract may be called without validate
    if kind is DocumentKind.PDF:
        return _extract_pdf(payload, limits=limits, on_progress=on_progress)
    if kind is DocumentKind.DOCX:
        return _extract_docx(payload, limits=limits, on_progress=on_progress)
    text = _decode_text(payload, limits=limits, html=kind is DocumentKind.HTML)
    _report(on_progress, 0, 1)
    extractors = {
        DocumentKind.TEXT: _extract_plain,
        DocumentKind.MARKDOWN: _extract_markdown,
        DocumentKind.CSV: _extract_csv,
        DocumentKind.HTML: _extract_html,
    }
    sections = extractors[kind](text, limits=limits)
    _report(on_progress, 1, 1)
    return sections


def _report(on_progress: ProgressCallback | None, done: int, total: int) -> None:
    if on_progress is not None:
        on_progress(done, total)


def _require_text(sections: list[Section], *, what: str) -> list[Section]:
    if not sections:
        raise DocumentRejected(
            code=RejectionCode.NO_TEXT,
            reason=f"The {what} contains no text we can use. Check that it is the right file.",
        )
    return sections


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.chars = 0

    def add_chars(self, count: int) -> None:
        self.chars += count
        if self.chars > self.limits.max_chars:
            raise _too_much_text(self.limits)

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.max_seconds:
            raise DocumentRejected(
                code=RejectionCode.TOO_SLOW,
                reason=(
                    "Reading this file took too long, so we stopped. Split it into smaller "
                    "files, or save it again (for example “Save as PDF”) and re-upload."
                ),
            )


class _SectionBuilder:
    """Collects text pieces into sections, starting a new one on heading or page change."""

    def __init__(self, *, limits: Limits, page: int | None) -> None:
        self.limits = limits
        self.budget = _Budget(limits)
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


def _normalise_inline(text: str) -> str:
    return re.sub(r"\s+", " ", normalise_text(text)).strip()


# ------------------------------------------------------------------------ chunking

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
