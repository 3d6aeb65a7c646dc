"""HTML pages, parsed by lxml (libxml2): the visible text and the headings;
never attributes, scripts, styles, comments or hidden elements."""

from __future__ import annotations

import re
from collections.abc import Mapping

import lxml.html
from lxml import etree

from knowledge.parsing.base import (
    Limits,
    Section,
    SectionBuilder,
    normalise_inline,
    require_text,
)

# Elements whose content is never visible prose (or is code).
SKIP = frozenset(["script", "style", "noscript", "template", "iframe", "object", "svg",
                  "canvas", "math"])
# Elements that never have content (so never start a skipped region).
VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr"])
# Elements that end a paragraph of text.
BLOCK = frozenset([
    "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "section", "article",
    "header", "footer", "main", "nav", "aside", "blockquote", "pre", "hr", "form", "fieldset",
    "figure", "figcaption", "address", "details", "summary", "caption", "thead", "tbody",
    "tfoot",
])
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LINE_BREAKS = frozenset({"br", "tr", "li"})  # a line break; other blocks a blank line

# HTML5 ignores "/>" on elements that are not void: "<script/>alert(1)</script>"
# runs the script and "<div hidden/>text" hides the text. libxml2 closes such
# elements at once, so the "/" is dropped before parsing, as a browser does.
_SELF_CLOSING = re.compile(
    r"<(?!(?:" + "|".join(sorted(VOID)) + r")\b)([A-Za-z][\w:.-]*)((?:\s[^<>]*?)?)\s*/>",
)
# lxml refuses a str that starts with an XML encoding declaration (the text is
# already decoded, so the declaration has nothing left to say).
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# Characters libxml2 does not accept in a document; text never has them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def extract(text: str, *, limits: Limits) -> list[Section]:
    builder = SectionBuilder(limits=limits, page=None)
    markup = _SELF_CLOSING.sub(r"<\1\2>", _CONTROL.sub("", _XML_DECLARATION.sub("", text)))
    try:
        document = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):  # nothing but whitespace or markup
        return require_text([], what="HTML page")
    _PageText(builder).walk(document)
    return require_text(builder.finish(), what="HTML page")


def hidden(attributes: Mapping[str, str]) -> bool:
    """Elements a browser would not show: hidden text is a favourite prompt-injection spot."""
    return ("hidden" in attributes
            or (attributes.get("aria-hidden") or "").strip().lower() == "true"
            or bool(_HIDDEN_STYLE.search(attributes.get("style") or "")))


class _PageText:
    """Walks the parsed tree in document order (with a stack, so a deeply nested
    page costs no recursion) and feeds text, headings and breaks to the builder."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder
        self.heading_parts: list[str] | None = None
        self.cells_in_row = 0

    def walk(self, root) -> None:
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            element, closing = stack.pop()
            if closing:
                self._end(element)
                continue
            stack.append((element, True))
            if self._start(element):
                stack.extend((child, False) for child in reversed(element))
        self._close_heading()

    def _skipped(self, element) -> bool:
        tag = element.tag
        if not isinstance(tag, str):  # a comment or processing instruction
            return True
        return tag in SKIP or tag == "title" or (tag not in VOID and hidden(element.attrib))

    def _start(self, element) -> bool:
        """Handle an element's start and its own text; True: walk its children."""
        if self._skipped(element):
            if element.tag == "title":
                title = normalise_inline(element.text_content())
                if title and not self.builder.has_text():
                    self.builder.heading(title)
            return False
        tag = element.tag
        if tag in HEADINGS:
            self._close_heading()
            self.heading_parts = []
        elif tag in BLOCK:
            self._block_break(tag)
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self._emit(" | ")
            self.cells_in_row += 1
        if element.text:
            self._emit(element.text)
        return True

    def _end(self, element) -> None:
        if not self._skipped(element):
            if element.tag in HEADINGS:
                self._close_heading()
            elif element.tag in BLOCK:
                self._block_break(element.tag)
        if element.tail:  # the text after an element is its parent's, shown
            self._emit(element.tail)

    def _emit(self, text: str) -> None:
        if self.heading_parts is not None:
            self.heading_parts.append(text)
        else:
            self.builder.add(text)

    def _block_break(self, tag: str) -> None:
        if tag == "tr":
            self.cells_in_row = 0
        self._emit("\n" if tag in LINE_BREAKS else "\n\n")

    def _close_heading(self) -> None:
        if self.heading_parts is None:
            return
        title = normalise_inline("".join(self.heading_parts))
        self.heading_parts = None
        if len(title) > 300:
            # A heading that swallowed the page was text, not a heading.
            self.builder.add(title + "\n\n")
        elif title:
            self.builder.heading(title)


def visible_text(markup: str) -> str:
    """The text a browser would show of an HTML fragment (e.g. HTML inside
    Markdown), headings as lines of their own; "" for comments, scripts and
    hidden elements."""
    cleaned = _SELF_CLOSING.sub(r"<\1\2>", _CONTROL.sub("", markup))
    try:
        root = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    builder = SectionBuilder(limits=Limits(), page=None)
    _PageText(builder).walk(root)
    return "\n\n".join(part for section in builder.finish()
                       for part in (section.heading, section.text) if part)
