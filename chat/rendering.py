"""Model output is text, never trusted markup: Markdown in, sanitized HTML out.

Fenced code is highlighted on the server (Pygments, from markdown-it's fence
token: its language tag) into <span class="…"> tokens styled by
static/css/pygments.css, so the page needs no script or inline style for it."""

from __future__ import annotations

import hashlib
import html
import logging

import nh3
from django.core.cache import cache
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


logger = logging.getLogger(__name__)
# Bump when the rendering changes (markdown-it options, allowed tags, styles).
RENDERING_VERSION = "1"
CACHE_SECONDS = 7 * 24 * 3600


def _cache_key(text: str) -> str:
    return f"md:{RENDERING_VERSION}:{hashlib.sha256(text.encode()).hexdigest()}"


def markdown_to_html_many(texts: list[str]) -> list[str]:
    """markdown_to_html for a page of messages: what was rendered before comes
    from the cache in one round trip (keyed by the text's hash, per client:
    the cache's key function adds the schema); the rest is rendered and stored.
    The cache down: everything is rendered, nothing fails."""
    keys = [_cache_key(text) for text in texts]
    try:
        cached = cache.get_many(set(keys))
    except Exception as exc:  # noqa: BLE001 - a cache outage must not fail the page
        logger.warning("Rendered-answer cache unavailable: %s", exc)
        return [markdown_to_html(text) for text in texts]
    fresh: dict[str, str] = {}
    out = []
    for key, text in zip(keys, texts, strict=True):
        rendered = cached.get(key) or fresh.get(key)
        if rendered is None:
            rendered = fresh[key] = markdown_to_html(text)
        out.append(rendered)
    if fresh:
        try:
            cache.set_many(fresh, CACHE_SECONDS)
        except Exception as exc:  # noqa: BLE001
            logger.warning("Rendered-answer cache unavailable: %s", exc)
    return out
