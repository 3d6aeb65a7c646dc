"""The interface exists in English, Korean and Japanese: every string the code
and templates mark for translation has a Korean and a Japanese translation, no
translation is fuzzy or drops a placeholder, and the compiled catalogs (.mo,
committed) say the same as the sources (.po).

A new English string without translations fails here: `makemessages` runs over
a copy of the sources and every message it finds must be in both catalogs.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
# Every language offered but English (the source language) needs its catalogs.
LANGUAGES = tuple(translation.to_locale(code) for code, _name in settings.LANGUAGES
                  if code != "en")
DOMAINS = ("django", "djangojs")
# What makemessages reads: the apps, the templates and our scripts.
SOURCES = ("api", "chat", "llm", "core", "compliance", "tenants", "config", "templates",
           "static/js")
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|%%|\{[a-z_0-9]*\}")


def catalog(language: str, domain: str) -> polib.POFile:
    path = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    return polib.pofile(str(path))


def key(entry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, set]:
    """The messages the sources mark today, per domain (makemessages on a copy,
    so the real catalogs are never touched)."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: install GNU gettext (apt-get install gettext)")
    work = tmp_path_factory.mktemp("makemessages")
    for source in SOURCES:
        shutil.copytree(ROOT / source, work / source,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations", "*.pyc"))
    (work / "locale").mkdir()
    found: dict[str, set] = {}
    previous = Path.cwd()
    os.chdir(work)
    try:
        with override_settings(LOCALE_PATHS=[]):
            for domain in DOMAINS:
                call_command("makemessages", locale=["ko"], domain=domain, verbosity=0,
                             no_location=True, no_obsolete=True)
                pot = polib.pofile(str(work / "locale" / "ko" / "LC_MESSAGES" / f"{domain}.po"))
                found[domain] = {key(entry) for entry in pot}
    finally:
        os.chdir(previous)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_marked_string_is_in_the_catalog(extracted, language, domain):
    known = {key(entry) for entry in catalog(language, domain) if not entry.obsolete}
    missing = sorted(extracted[domain] - known)
    assert not missing, (
        f"{len(missing)} message(s) marked in the code are not in "
        f"locale/{language}/LC_MESSAGES/{domain}.po; run makemessages and translate them "
        "(README, Languages):\n  " + "\n  ".join(repr(m[1]) for m in missing))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_translated_and_none_is_fuzzy(language, domain):
    po = catalog(language, domain)
    entries = [entry for entry in po if not entry.obsolete]
    assert entries, "an empty catalog"
    untranslated = [entry.msgid for entry in entries if not entry.translated()]
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert not untranslated, f"untranslated in {language}/{domain}.po: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}/{domain}.po: {fuzzy}"
    # Korean and Japanese have one plural form; every language states its rule.
    assert "nplurals=" in po.metadata.get("Plural-Forms", "")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_every_placeholder(language, domain):
    broken = []
    for entry in catalog(language, domain):
        if entry.obsolete:
            continue
        translations = (list(entry.msgstr_plural.values()) if entry.msgid_plural
                        else [entry.msgstr])
        wanted = sorted(set(PLACEHOLDER.findall(entry.msgid))
                        | set(PLACEHOLDER.findall(entry.msgid_plural or "")))
        for text in translations:
            if sorted(set(PLACEHOLDER.findall(text))) != wanted:
                broken.append((entry.msgid, text))
    assert not broken, f"placeholders differ in {language}/{domain}.po: {broken}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalog_matches_its_source(language, domain):
    """The .mo files are committed (no gettext needed to install or run); one
    left behind after a .po change would show old text."""
    source = catalog(language, domain)
    path = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.mo"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run compilemessages"
    compiled = {(entry.msgctxt or "", entry.msgid): (entry.msgstr_plural or entry.msgstr)
                for entry in polib.mofile(str(path)) if entry.msgid}
    expected = {(entry.msgctxt or "", entry.msgid): (
        {int(k): v for k, v in entry.msgstr_plural.items()} if entry.msgid_plural
        else entry.msgstr) for entry in source if not entry.obsolete and entry.translated()}
    compiled = {k: ({int(n): v for n, v in value.items()} if isinstance(value, dict) else value)
                for k, value in compiled.items()}
    stale = sorted(k[1] for k in expected if compiled.get(k) != expected[k])
    assert not stale, (f"locale/{language}/LC_MESSAGES/{domain}.mo is out of date "
                       f"(run compilemessages): {stale[:5]}")
