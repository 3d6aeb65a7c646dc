"""Integer ids that arrive as text (paths, form fields, query strings, SCIM
ids, stream event ids): parsed here, once, and bounded.

`str.isdigit()` accepts "²" and "٣" (which `int()` then refuses or reads as
another number), and `int()` of a 5,000-digit string raises (Python limits
conversions to 4,300 digits) or makes a number no database column holds. Here
only ASCII digits count, their number is bounded by the largest value allowed,
and anything else is "not an id" (None): a 400 or a 404 for the caller, never
a 500.
"""

from __future__ import annotations

import re

from django.urls import register_converter

# PostgreSQL bigint, the widest primary key we use.
MAX_ID = 2**63 - 1
# Each half of a Redis stream entry id ("<ms>-<seq>") is an unsigned 64-bit number.
MAX_REDIS_PART = 2**64 - 1

_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_id(text: object, *, maximum: int = MAX_ID, minimum: int = 0) -> int | None:
    """The integer `text` spells in ASCII digits (no sign, no spaces), if it is
    within [minimum, maximum]; else None."""
    if not isinstance(text, str) or len(text) > len(str(maximum)):
        return None
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_event_id(text: object) -> tuple[int, int] | None:
    """A Redis stream entry id `1700000000000-0` as its two numbers, if both
    are within Redis's range; else None."""
    if not isinstance(text, str):
        return None
    ms, dash, seq = text.partition("-")
    first = parse_id(ms, maximum=MAX_REDIS_PART)
    second = parse_id(seq, maximum=MAX_REDIS_PART) if dash else None
    if first is None or second is None:
        return None
    return first, second


class IdConverter:
    """`<id:name>` in URL patterns: a positive database id (1 .. bigint)."""

    regex = f"[0-9]{{1,{len(str(MAX_ID))}}}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value, minimum=1)
        if parsed is None:
            raise ValueError(value)  # no match: the URL is a 404
        return parsed

    def to_url(self, value: int | str) -> str:
        return str(value)


register_converter(IdConverter, "id")
