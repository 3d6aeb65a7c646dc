"""Model output is text, never trusted markup: Markdown in, sanitized HTML out.

Fenced code is highlighted on the server (Pygments, from markdown-it's fence
token: its language tag) into <span class="…"> tokens styled by
static/css/pygments.css, so the page needs no script or inline style for it."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_formatter = HtmlFormatter(nowrap=True, classprefix="tok-")
# Longer code is shown plain: highlighting costs time on every page view.
HIGHLIGHT_MAX_CHARS = 20_000


def _highlight(code: str, language: str, _attrs) -> str:
    name = (language or "").strip().split()[0] if (language or "").strip() else ""
    if not name or len(code) > HIGHLIGHT_MAX_CHARS:
        return ""  # markdown-it escapes it as usual
    try:
        lexer = get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return html.escape(code, quote=False)
    return highlight(code, lexer, _formatter)


_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "highlight": _highlight}
).enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "span",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "del",
    "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "span": {"class"},
                      "th": {"align"}, "td": {"align"}}


def markdown_to_html(text: str) -> str:
    rendered = _markdown.render(text or "")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
