"""What the Content-Security-Policy would block is not in the source at all:
no inline <script> (JSON data blocks are fine: they never run), no inline event
handler, no <style> element or style attribute in any template, and no
string-to-code in our scripts. Complements the browser tests, which see only
the pages they visit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".htm"})
SCRIPTS = sorted((ROOT / "static" / "js").rglob("*.js"))

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.IGNORECASE)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)
STRING_TO_CODE = re.compile(
    r"\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*[\"'`]"
    r"|setAttribute\(\s*[\"'](?:on[a-z]+|style)[\"']|\.on[a-z]+\s*=\s*[\"'`]")


def test_there_is_something_to_check():
    assert len(TEMPLATES) > 20 and len(SCRIPTS) >= 4


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_code(path):
    text = path.read_text()
    for name, pattern in [("inline <script>", INLINE_SCRIPT), ("inline event handler", HANDLER),
                          ("inline style", STYLE), ("javascript: URL", JS_URL)]:
        match = pattern.search(text)
        assert match is None, f"{name} in {path.name}: {match.group(0)[:80]!r}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_turns_no_string_into_code(path):
    match = STRING_TO_CODE.search(path.read_text())
    assert match is None, f"{path.name}: {match.group(0)!r}"


def test_the_patterns_catch_what_they_should():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/chat.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="d">{}</script>')
    assert HANDLER.search('<form method="post"\n  onsubmit="return confirm(1)">')
    assert not HANDLER.search('<form data-confirm="Delete?">')
    assert STYLE.search('<div class="bar" style="height: 5%">')
    assert STYLE.search("<style>.a{}</style>")
    assert STRING_TO_CODE.search('setTimeout("go()", 5)')
    assert not STRING_TO_CODE.search("setTimeout(() => go(), 5)")
