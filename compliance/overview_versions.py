"""The Security overview's language versions: which languages exist, their seed
content and their labels.

Each language's seed lives in its own data module (``overview_content`` for
English, ``overview_content_ko``, ``overview_content_ja``); the migrations copy
them into the database, where staff edit each version on its own. The labels
(headings, table headers, the version line) stay here in code with the content
they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import ModuleType

from compliance import overview_content, overview_content_ja, overview_content_ko
from compliance.overview_content import Labels, Link, Section

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGE_CHOICES", "VERSIONS", "Version", "base_language",
           "labels_for"]

DEFAULT_LANGUAGE = overview_content.LANGUAGE


@dataclass(frozen=True, slots=True)
class Version:
    language: str
    sections: tuple[Section, ...]
    links: tuple[Link, ...]
    last_reviewed: date
    labels: Labels


def _version(module: ModuleType) -> Version:
    return Version(language=module.LANGUAGE, sections=module.SECTIONS, links=module.LINKS,
                   last_reviewed=module.LAST_REVIEWED, labels=module.LABELS)


VERSIONS: dict[str, Version] = {
    module.LANGUAGE: _version(module)
    for module in (overview_content, overview_content_ko, overview_content_ja)
}

# For model fields: each language named in its own script.
LANGUAGE_CHOICES: list[tuple[str, str]] = [
    (code, version.labels.language_name) for code, version in VERSIONS.items()]


def base_language(code: str | None) -> str:
    """"ko-KR" / "ko_kr" / "KO" -> "ko"; empty -> ""."""
    return (code or "").strip().replace("_", "-").split("-")[0].lower()


def labels_for(code: str) -> Labels:
    """The labels of a language we have, else English."""
    version = VERSIONS.get(base_language(code)) or VERSIONS[DEFAULT_LANGUAGE]
    return version.labels
