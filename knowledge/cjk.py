"""Which characters are Korean or Japanese (no Django: document extraction uses it too)."""

from __future__ import annotations

import re

# Japanese scripts and Korean Hangul. Kanji include the iteration marks 々 〆;
# katakana the long-vowel mark and the half-width forms. The SQL functions of
# knowledge.search are built from these same classes.
HIRAGANA = r"\u3041-\u309F"
KATAKANA = r"\u30A0-\u30FF\u31F0-\u31FF\uFF66-\uFF9F"
KANJI = r"\u3005\u3006\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF"
HANGUL = r"\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3"
CJK_CLASS = HIRAGANA + KATAKANA + KANJI + HANGUL
CJK_PATTERN = re.compile(f"[{CJK_CLASS}]")
HIRAGANA_ONLY = re.compile(f"^[{HIRAGANA}]+$")
HANGUL_ONLY = re.compile(f"^[{HANGUL}]+$")


def has_cjk(text: str) -> bool:
    return bool(CJK_PATTERN.search(text or ""))


def is_hiragana(text: str) -> bool:
    return bool(HIRAGANA_ONLY.match(text))


def is_hangul(text: str) -> bool:
    return bool(HANGUL_ONLY.match(text))


def cjk_share(text: str) -> float:
    """The share of the text's letters that are Hangul, kana or kanji."""
    letters = [char for char in text or "" if char.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for char in letters if CJK_PATTERN.match(char)) / len(letters)
