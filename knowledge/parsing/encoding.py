"""Decoding text uploads (plain text, Markdown, CSV, HTML)."""

from __future__ import annotations

import codecs
import re

from knowledge.parsing.base import DocumentRejected, Limits, RejectionCode, too_much_text
from knowledge.parsing.sniffing import looks_like


def decode_text(data: bytes, *, limits: Limits, html: bool = False) -> str:
    """Decode a text upload: BOM, then (HTML) declared charset, then UTF-8, then cp1252.

    cp1252 is the fallback because text that is not UTF-8 is, in practice,
    almost always from Windows in a Western language; it decodes nearly any
    bytes, so a control-character ratio afterwards tells text from binary.
    """
    text: str | None = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _try_decode(data, "utf-16")
    elif b"\x00" in data[:8192]:
        raise not_text(data)
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
        raise too_much_text(limits)
    sample = text[:65536]
    if len(_BINARY_CHARS.findall(sample)) > max(8, len(sample) // 100):
        raise not_text(data)
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


def not_text(data: bytes) -> DocumentRejected:
    actual = looks_like(data)
    looks = f"it is actually {actual}" if actual else "it looks like binary data"
    return DocumentRejected(
        code=RejectionCode.NOT_TEXT,
        reason=(
            f"This file is not readable text; {looks} with a text file's name. "
            "Upload the original document, or save it as UTF-8 text."
        ),
    )


