"""The Korean and Japanese versions of the Security overview: seed content, labels
and the PDF in each language (pure Python, no database)."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date

import pypdf
import pytest

from compliance import overview_content as en
from compliance import overview_content_ja as ja
from compliance import overview_content_ko as ko
from compliance.overview_content import BulletListBlock, ParagraphBlock, parse_body
from compliance.overview_pdf import build_overview_pdf
from compliance.overview_versions import VERSIONS, base_language, labels_for

# Facts every version must state, in its own script.
FACTS = {
    "ko": ["2023년 3월 1일", "최대 30일", "데이터 미보관", "store=False", "PostgreSQL 스키마",
           "마스킹", "감사 기록", "자동으로 삭제", "DPA", "ChatGPT Enterprise"],
    "ja": ["2023年3月1日", "最大30日間", "データ保持ゼロ", "store=False", "PostgreSQLスキーマ",
           "マスキング", "監査証跡", "自動的に削除", "DPA", "ChatGPT Enterprise"],
}

HEADINGS = {
    "ko": ["이 문서에 대하여", "학습 활용 여부", "저장 및 보관 기간", "이용 범위", "이용자의 책임",
           "계약에 따른 차이", "요약"],
    "ja": ["本資料について", "学習への利用", "データの保存と保持期間", "利用目的の範囲",
           "利用者の責任", "契約による違い", "まとめ"],
}


def _pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def _pdf_fonts(pdf: bytes) -> set[str]:
    fonts = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).lstrip("/"))
    return fonts


def _all_text(module) -> str:
    parts = []
    for section in module.SECTIONS:
        parts.append(section.title)
        for block in parse_body(section.body):
            parts.extend([block.text] if isinstance(block, ParagraphBlock) else block.items)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {
        code: build_overview_pdf(sections=v.sections, links=v.links,
                                 last_reviewed=v.last_reviewed, language=code,
                                 workspace={"Model": "gpt-4o-mini"}, workspace_name="Acme")
        for code, v in VERSIONS.items()
    }


# --- content -----------------------------------------------------------------------


def test_there_is_a_version_per_language_with_the_english_structure():
    assert list(VERSIONS) == ["en", "ko", "ja"]
    for module in (ko, ja):
        assert [(s.slug, s.order) for s in module.SECTIONS] == [
            (s.slug, s.order) for s in en.SECTIONS]
        assert [(link.url, link.order) for link in module.LINKS] == [
            (link.url, link.order) for link in en.LINKS]
        assert module.SECTIONS[-1] is module.SUMMARY
        (summary,) = parse_body(module.SUMMARY.body)
        assert isinstance(summary, BulletListBlock) and len(summary.items) == 5


@pytest.mark.parametrize("module", [ko, ja], ids=["ko", "ja"])
def test_each_version_states_the_facts_and_our_controls(module):
    text = _all_text(module)
    for fact in FACTS[module.LANGUAGE]:
        assert fact in text, fact
    assert [s.title for s in module.SECTIONS] == HEADINGS[module.LANGUAGE]
    # Written out, not a stub: each part is at least as long as a short paragraph.
    for section in module.SECTIONS:
        assert len(section.body) > 150, section.slug


def test_korean_is_written_in_the_formal_hapnida_style():
    text = _all_text(ko)
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", text.replace("\n", " ")) if s]
    endings = [s for s in sentences if s.endswith(".")]
    assert endings
    # 합니다체: declaratives end in -ㅂ니다/습니다, requests in -십시오; never 해요체.
    assert all(s.endswith(("니다.", "십시오.")) for s in endings), [
        s for s in endings if not s.endswith(("니다.", "십시오."))]
    assert "요." not in text


def test_japanese_is_written_in_the_polite_desu_masu_style():
    text = _all_text(ja)
    sentences = [s for s in re.split(r"(?<=。)", text.replace("\n", "")) if s.strip()]
    endings = [s.strip() for s in sentences if s.strip().endswith("。")]
    assert endings
    polite = ("です。", "ます。", "ません。", "ください。", "でした。")
    assert all(s.endswith(polite) for s in endings), [
        s for s in endings if not s.endswith(polite)]
    for plain in ("である。", "だ。", "する。"):
        assert plain not in text


def test_every_label_is_filled_in_every_language():
    for code, version in VERSIONS.items():
        for field in dataclasses.fields(version.labels):
            assert getattr(version.labels, field.name).strip(), (code, field.name)
    assert labels_for("ko").format_date(date(2027, 1, 2)) == "2027년 1월 2일"
    assert labels_for("ja").format_date(date(2027, 1, 2)) == "2027年1月2日"
    assert labels_for("en").format_date(date(2027, 1, 2)) == "2 January 2027"
    assert labels_for("fr") is labels_for("en")
    assert base_language("ko-KR") == "ko" and base_language("ja_JP") == "ja"


def test_wrapped_japanese_lines_join_without_a_space_and_korean_with_one():
    assert parse_body("貴社専用の\nスキーマに保存されます。") == (
        ParagraphBlock("貴社専用のスキーマに保存されます。"),)
    assert parse_body("- OpenAI\nAPIを通じて") == (BulletListBlock(("OpenAI APIを通じて",)),)
    assert parse_body("전용 데이터베이스\n스키마에 저장됩니다.") == (
        ParagraphBlock("전용 데이터베이스 스키마에 저장됩니다."),)
    assert parse_body("English\nwraps") == (ParagraphBlock("English wraps"),)


# --- PDF ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ko", "ja"])
def test_pdf_text_extracts_the_headings_labels_and_date_in_the_language(pdfs, code):
    version = VERSIONS[code]
    labels = version.labels
    text = _pdf_text(pdfs[code])
    for heading in HEADINGS[code]:
        assert heading in text, heading
    for label in (labels.title, labels.references, labels.link_name,
                  labels.workspace_heading_named.format(name="Acme"),
                  labels.reviewed(version.last_reviewed), labels.version):
        assert label in text, label
    assert "2023" in text and "store=False" in text
    assert "Your workspace's settings" not in text and "References" not in text
    reader = pypdf.PdfReader(io.BytesIO(pdfs[code]))
    assert reader.metadata.title == labels.title
    assert [item.title for item in reader.outline] == HEADINGS[code] + [
        labels.references, labels.workspace_heading_named.format(name="Acme")]


def test_pdf_uses_the_korean_and_japanese_cid_fonts(pdfs):
    assert {"HYSMyeongJo-Medium", "HYGothic-Medium"} <= _pdf_fonts(pdfs["ko"])
    assert {"HeiseiMin-W3", "HeiseiKakuGo-W5"} <= _pdf_fonts(pdfs["ja"])
    assert not {"HYSMyeongJo-Medium", "HeiseiMin-W3"} & _pdf_fonts(pdfs["en"])


def test_english_pdf_is_unchanged_apart_from_the_version_line(pdfs):
    text = _pdf_text(pdfs["en"])
    assert "English version · Last reviewed: 24 November 2026" in text
    assert "Your workspace's settings: Acme" in text and "References" in text


def test_hangul_and_japanese_in_a_value_extract_from_any_language(pdfs):
    name = "(주)에이스 株式会社テスト"
    for code in VERSIONS:
        pdf = build_overview_pdf(sections=[], links=[], last_reviewed=None, language=code,
                                 workspace={"Model": "gpt-4o-mini"}, workspace_name=name)
        text = _pdf_text(pdf)
        assert name in text, code
    # In the English document the Hangul and Japanese runs get fonts that have them.
    english = build_overview_pdf(sections=[], links=[], last_reviewed=None,
                                 workspace={}, workspace_name=name)
    assert {"HYGothic-Medium", "HeiseiKakuGo-W5"} <= _pdf_fonts(english)


def test_pdf_fallback_note_is_printed_under_the_version_line():
    note = labels_for("ja").fallback_note
    text = _pdf_text(build_overview_pdf(sections=en.SECTIONS, links=en.LINKS,
                                        last_reviewed=en.LAST_REVIEWED, language="en",
                                        note=note))
    assert "English version · Last reviewed: 24 November 2026" in text
    assert note in text
    assert text.index(note) < text.index("About this overview")
