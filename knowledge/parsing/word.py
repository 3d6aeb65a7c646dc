"""Word (.docx) with python-docx: heading styles, pages as Word last laid them
out, tables, text boxes."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from knowledge.parsing.base import (
    DocumentRejected,
    Limits,
    ProgressCallback,
    RejectionCode,
    Section,
    SectionBuilder,
    corrupt,
    megabytes,
    normalise_inline,
    report,
    require_text,
)

_DOCX_REQUIRED = ("[Content_Types].xml", "word/document.xml")


if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph


def inspect(data: bytes, *, limits: Limits) -> None:
    """Check the zip's own inventory before anything is decompressed.

    zipfile refuses to inflate an entry past its declared size (the CRC check
    fails), so bounding the declared sizes bounds what python-docx can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise corrupt("Word") from error
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
                f"This Word file would expand to {megabytes(unpacked)} when opened, more "
                f"than the {megabytes(limits.max_docx_unpacked_bytes)} limit. Remove large "
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


def extract(
    data: bytes, *, limits: Limits, on_progress: ProgressCallback | None
) -> list[Section]:
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    inspect(data, limits=limits)
    report(on_progress, 0, 1)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        levels: dict[str, int | None] = {}  # style name -> heading level, per document
        # Text boxes are stored twice (modern drawing + VML fallback for old
        # Word); reading both would duplicate their text. The tree is ours to edit.
        for fallback in list(body.iter(_MC_FALLBACK)):
            fallback.getparent().remove(fallback)
    except Exception as error:  # python-docx raises many types on bad input
        raise corrupt("Word") from error

    # Word records where pages broke the last time it laid the file out
    # (w:lastRenderedPageBreak). When present, that is the page a reader saw; when
    # absent (files made by other tools) pages are unknown rather than guessed.
    paginated = next(body.iter(qn("w:lastRenderedPageBreak")), None) is not None
    builder = SectionBuilder(limits=limits, page=1 if paginated else None)
    tags = _DocxTags(qn)
    for block in _docx_children(body, tags, wanted=(tags.p, tags.tbl)):
        if block.tag == tags.p:
            if _heading_level(Paragraph(block, document), levels) is not None:
                title = normalise_inline(
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
    report(on_progress, 1, 1)
    return require_text(sections, what="Word document")


class _DocxTags:
    def __init__(self, qn: Callable[[str], str]) -> None:
        self.p, self.tbl, self.tr, self.tc = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
        self.t, self.tab, self.br, self.cr = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
        self.page_break = qn("w:lastRenderedPageBreak")
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


def _count_pages(block: Any, tags: _DocxTags, builder: SectionBuilder) -> None:
    for _ in block.iter(tags.page_break):
        builder.next_page()


def _heading_level(paragraph: Paragraph, levels: dict[str, int | None]) -> int | None:
    """0 for Title, 1-9 for Heading 1-9, else None: by the paragraph's style as
    python-docx resolves it (the style named in the paragraph, or the document's
    default), matched by name whatever the style's language-specific id."""
    try:
        name = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, ValueError):  # a style reference python-docx cannot resolve
        return None
    if name not in levels:
        lowered = (name or "").strip().lower()
        found = re.fullmatch(r"heading\s*([1-9])", lowered)
        levels[name] = 0 if lowered == "title" else int(found.group(1)) if found else None
    return levels[name]
