"""Seed content and PDF of the Security overview (pure Python, no Django needed)."""

from __future__ import annotations

import io
import re
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pypdf
import pytest

from compliance import overview_content
from compliance.overview_content import (
    LAST_REVIEWED,
    LINKS,
    POLICY_PARTS,
    SECTIONS,
    SUMMARY,
    BulletListBlock,
    ParagraphBlock,
    Section,
    parse_body,
)
from compliance.overview_pdf import WORKSPACE_HEADING, build_overview_pdf

EXPECTED_PARTS = [
    ("use-for-training", "Use for training"),
    ("storage-and-retention", "Storage and retention"),
    ("scope-of-use", "Scope of use"),
    ("user-responsibility", "User responsibility"),
    ("contract-based-differences", "Contract-based differences"),
]

EXPECTED_LINKS = [
    ('API data usage ("Your data")', "https://platform.openai.com/docs/guides/your-data"),
    ("Consumer privacy", "https://openai.com/consumer-privacy/"),
    ("Enterprise privacy", "https://openai.com/enterprise-privacy/"),
    ("Security & privacy", "https://openai.com/security-and-privacy/"),
    ("Usage policies", "https://openai.com/policies/usage-policies/"),
    (
        "How your data is used to improve model performance",
        "https://help.openai.com/en/articles/"
        "5722486-how-your-data-is-used-to-improve-model-performance",
    ),
]

KEY_FACTS = ["1 March 2023", "30 days", "zero data retention", "store=False"]

HOSTILE = "<b>&<script>alert('x')</script> &amp; <font size=40>big</font>"

# A copy of shared/seed/data-usage-faq.txt, so the check runs on any clone.
FAQ_PATH = Path(__file__).resolve().parent / "data-usage-faq.txt"


def _seed_text() -> str:
    return " ".join(f"{s.title}\n{s.body}" for s in SECTIONS)


def _pdf_reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def _pdf_text(pdf: bytes) -> str:
    """All page text with whitespace collapsed, so line wrapping does not matter."""
    text = " ".join(page.extract_text() or "" for page in _pdf_reader(pdf).pages)
    return " ".join(text.split())


def _link_uris(pdf: bytes) -> set[str]:
    uris = set()
    for page in _pdf_reader(pdf).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.add(str(action["/URI"]))
    return uris


def _build(**overrides) -> bytes:
    arguments = {"sections": SECTIONS, "links": LINKS, "last_reviewed": LAST_REVIEWED}
    arguments.update(overrides)
    return build_overview_pdf(**arguments)


@pytest.fixture(scope="module")
def seed_pdf() -> bytes:
    return _build()


# --- seed content ------------------------------------------------------------------


def test_seed_has_intro_then_the_five_parts_in_order_then_summary():
    assert SECTIONS[0] is overview_content.INTRO
    assert [(s.slug, s.title) for s in POLICY_PARTS] == EXPECTED_PARTS
    assert SECTIONS[1:6] == POLICY_PARTS
    assert SECTIONS[-1] is SUMMARY
    assert SUMMARY.title == "Summary"
    assert len(SECTIONS) == 7


def test_seed_orders_and_slugs_are_unique_and_ascending():
    orders = [s.order for s in SECTIONS]
    assert orders == sorted(orders)
    assert len(set(orders)) == len(orders)
    assert len({s.slug for s in SECTIONS}) == len(SECTIONS)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s.slug) for s in SECTIONS)


def test_every_section_has_real_content_including_contract_based_differences():
    for section in SECTIONS:
        blocks = parse_body(section.body)
        assert blocks, section.slug
        words = sum(
            len((b.text if isinstance(b, ParagraphBlock) else " ".join(b.items)).split())
            for b in blocks
        )
        assert words >= 40, section.slug
    contract = next(s for s in SECTIONS if s.slug == "contract-based-differences")
    for term in ("enterprise", "DPA", "zero data retention", "approve"):
        assert term.lower() in contract.body.lower(), term


def test_summary_is_a_bullet_list():
    (block,) = parse_body(SUMMARY.body)
    assert isinstance(block, BulletListBlock)
    assert len(block.items) >= 3


def test_seed_states_the_documented_facts_and_tuneaibot_controls():
    text = " ".join(_seed_text().split())
    for fact in KEY_FACTS:
        assert fact.lower() in text.lower(), fact
    storage = " ".join(next(s for s in SECTIONS if s.slug == "storage-and-retention").body.split())
    for phrase in (
        "for up to 30 days",
        "zero data retention",
        "PostgreSQL schema",
        "vector stores",
        "until it is deleted",
        "store=False",
    ):
        assert phrase in storage, phrase
    for control in ("redact", "audit trail", "how long"):
        assert control in text, control


def test_seed_links_are_exactly_the_six_references_in_order():
    assert [(link.name, link.url) for link in LINKS] == EXPECTED_LINKS
    assert [link.order for link in LINKS] == [1, 2, 3, 4, 5, 6]
    assert all(len(link.description) > 30 for link in LINKS)


def test_last_reviewed_date():
    assert LAST_REVIEWED.isoformat() == "2026-11-24"


def test_seed_objects_are_frozen():
    with pytest.raises(FrozenInstanceError):
        SECTIONS[0].title = "changed"  # type: ignore[misc]


def test_seed_is_written_in_our_own_words():
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    ours = " " + " ".join(words(_seed_text() + " ".join(x.description for x in LINKS))) + " "
    faq = words(FAQ_PATH.read_text(encoding="utf-8"))
    run = 7
    copied = {
        " ".join(faq[i : i + run])
        for i in range(len(faq) - run + 1)
        if f" {' '.join(faq[i : i + run])} " in ours
    }
    assert not copied


# --- body parser -------------------------------------------------------------------


def test_parse_body_splits_paragraphs_and_bullets_and_joins_wrapped_lines():
    body = "First line\nwraps here.\n\nIntro:\n- one\n  continues\n- two\n\nLast."
    assert parse_body(body) == (
        ParagraphBlock("First line wraps here."),
        ParagraphBlock("Intro:"),
        BulletListBlock(("one continues", "two")),
        ParagraphBlock("Last."),
    )


def test_parse_body_ignores_empty_bullets_and_blank_bodies():
    assert parse_body("") == ()
    assert parse_body("-\n\n-\nfilled") == (BulletListBlock(("filled",)),)


# --- PDF ---------------------------------------------------------------------------


def test_pdf_is_a_real_pdf_that_opens(seed_pdf):
    assert seed_pdf.startswith(b"%PDF-")
    reader = _pdf_reader(seed_pdf)
    assert len(reader.pages) >= 2
    assert reader.metadata.title == "TuneAIBot Security Overview"


def test_pdf_text_has_title_date_sections_facts_and_link_names(seed_pdf):
    text = _pdf_text(seed_pdf)
    assert "TuneAIBot Security Overview" in text
    assert "Last reviewed: 24 November 2026" in text
    for section in SECTIONS:
        assert section.title in text, section.title
    for fact in KEY_FACTS:
        assert fact.lower() in text.lower(), fact
    assert "References" in text
    for name, _url in EXPECTED_LINKS:
        assert name in text, name


def test_pdf_sections_follow_their_order(seed_pdf):
    text = _pdf_text(seed_pdf)
    positions = [text.index(section.title) for section in SECTIONS]
    assert positions == sorted(positions)


def test_pdf_reference_links_are_clickable(seed_pdf):
    assert {url for _name, url in EXPECTED_LINKS} <= _link_uris(seed_pdf)


def test_pdf_has_a_bookmark_per_heading(seed_pdf):
    titles = [item.title for item in _pdf_reader(seed_pdf).outline]
    assert titles == [s.title for s in SECTIONS] + ["References"]


def test_workspace_settings_are_absent_unless_given(seed_pdf):
    assert WORKSPACE_HEADING not in _pdf_text(seed_pdf)


def test_workspace_settings_render_as_label_value_rows_with_the_workspace_name():
    workspace = {
        "Model in use": "gpt-4o-mini",
        "Endpoint": "https://api.openai.com/v1",
        "Personal-data redaction": "On (e-mail addresses, phone numbers)",
        "Conversation retention": "90 days",
        "Documents embedded through the API": "No",
    }
    text = _pdf_text(_build(workspace=workspace, workspace_name="Acme Logistics"))
    assert f"{WORKSPACE_HEADING}: Acme Logistics" in text
    for label, value in workspace.items():
        assert f"{label} {value}" in text, label
    # The workspace part comes after the shared content.
    assert text.index(WORKSPACE_HEADING) > text.index("References")


def test_workspace_heading_without_a_name_and_an_empty_mapping():
    text = _pdf_text(_build(workspace={}))
    assert WORKSPACE_HEADING in text
    assert f"{WORKSPACE_HEADING}:" not in text
    assert "No settings were recorded" in text


def test_hostile_values_render_as_literal_text_everywhere():
    section = SimpleNamespace(slug="x", title=f"Title {HOSTILE}", order=1, body=f"- {HOSTILE}")
    link = SimpleNamespace(
        name=f"Link {HOSTILE}", description=HOSTILE, url="https://e.test/?a=1&b=<2>", order=1
    )
    pdf = build_overview_pdf(
        sections=[section],
        links=[link],
        last_reviewed=LAST_REVIEWED,
        workspace={f"Label {HOSTILE}": f"{HOSTILE}\nsecond\x00 line"},
        workspace_name="A & <B>",
        title="Overview & <i>co</i>",
    )
    # Narrow table cells wrap anywhere, so compare with all whitespace removed.
    text = "".join(_pdf_text(pdf).split())
    for expected in (
        f"Title {HOSTILE}",
        f"Link {HOSTILE}",
        f"Label {HOSTILE}{HOSTILE}second line",
        f"{WORKSPACE_HEADING}: A & <B>",
        "Overview & <i>co</i>",
    ):
        assert "".join(expected.split()) in text, expected
    assert "https://e.test/?a=1&b=<2>" in _link_uris(pdf)


def test_unsafe_link_schemes_are_shown_but_not_clickable():
    link = SimpleNamespace(name="Bad", description="d", url="javascript:alert(1)", order=1)
    pdf = build_overview_pdf(sections=[], links=[link], last_reviewed=None)
    assert "javascript:alert(1)" in _pdf_text(pdf)
    assert not any(uri.startswith("javascript") for uri in _link_uris(pdf))


def test_accepts_duck_typed_objects_and_sorts_by_order():
    sections = [
        SimpleNamespace(slug="b", title="Second heading", order=2, body="Two."),
        SimpleNamespace(slug="a", title="First heading", order=1, body="One."),
    ]
    links = [
        SimpleNamespace(name="Link two", description="d2", url="https://two.test/", order=2),
        SimpleNamespace(name="Link one", description="d1", url="https://one.test/", order=1),
    ]
    text = _pdf_text(build_overview_pdf(sections=sections, links=links, last_reviewed=None))
    assert text.index("First heading") < text.index("Second heading")
    assert text.index("Link one") < text.index("Link two")
    assert "Last reviewed" not in text


def test_a_section_can_be_built_from_the_dataclass():
    section = Section(slug="s", title="Custom", order=1, body="Para.\n\n- bullet")
    text = _pdf_text(
        build_overview_pdf(sections=[section], links=[], last_reviewed=date(2027, 1, 2))
    )
    assert text.index("Custom") < text.index("Para.") < text.index("bullet")
    assert "Last reviewed: 2 January 2027" in text
