"""Display names of uploads."""

from __future__ import annotations

import re
import unicodedata

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
