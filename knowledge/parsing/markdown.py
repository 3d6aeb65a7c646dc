"""Markdown, read from markdown-it-py's tokens (CommonMark plus tables): the
text as it would be shown, a section per heading. Code is kept as written;
HTML in the file counts only for what a browser would show of it (no comments,
scripts or hidden elements)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.parsing import html
from knowledge.parsing.base import (
    Limits,
    Section,
    SectionBuilder,
    normalise_inline,
    require_text,
)

_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def extract(text: str, *, limits: Limits) -> list[Section]:
    builder = SectionBuilder(limits=limits, page=None)
    tokens = _PARSER.parse(text)
    cells_in_row = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            inline = tokens[index + 1]
            builder.heading(normalise_inline(_inline_text(inline.children or [])))
            index += 3  # heading_open, inline, heading_close
            continue
        if kind == "inline":
            content = _inline_text(token.children or [])
            if token.level and tokens[index - 1].type in ("th_open", "td_open"):
                if cells_in_row:
                    builder.add(" | ")
                cells_in_row += 1
                builder.add(content)
            else:
                builder.add(content)
        elif kind == "paragraph_close":
            # Items of a tight list are lines; other paragraphs are separated by a blank line.
            builder.add("\n" if token.hidden else "\n\n")
        elif kind in ("fence", "code_block"):
            builder.add(token.content.rstrip("\n") + "\n\n")
        elif kind == "html_block":
            shown = html.visible_text(token.content)
            if shown:
                builder.add(shown + "\n\n")
        elif kind == "tr_close":
            cells_in_row = 0
            builder.add("\n")
        elif kind in ("bullet_list_close", "ordered_list_close", "table_close", "hr"):
            builder.add("\n\n")
        index += 1
    return require_text(builder.finish(), what="Markdown file")


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak" or kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            parts.append(_inline_text(child.children or []))  # its alt text
        elif kind == "html_inline":
            continue  # a tag or comment: markup, not text
    return "".join(parts)
