"""The Security overview page and PDF in Korean and Japanese: the version is picked
by the request's language (``?lang=`` or the active language), staff edit each
version in the platform admin, and a language with no content falls back to
English with a note."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io

import pypdf
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import set_urlconf
from django.utils import translation
from django_tenants.utils import schema_context

from compliance import selectors, views
from compliance.models import OverviewLink, OverviewReview, OverviewSection
from compliance.overview_versions import VERSIONS
from tests.support.accounts import signed_in_client


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def platform(live_db, host_client):
    return host_client(settings.BASE_DOMAIN)


def _restore_seed(language: str) -> None:
    """Put a language's seeded sections back exactly as the migration left them."""
    version = VERSIONS[language]
    OverviewSection.objects.filter(language=language).delete()
    OverviewSection.objects.bulk_create([
        OverviewSection(language=language, slug=s.slug, title=s.title, order=s.order,
                        body=s.body) for s in version.sections])
    OverviewReview.objects.filter(language=language).update(
        last_reviewed=version.last_reviewed, reviewed_by="")


def test_the_migration_seeds_three_versions_each_with_its_review_date(live_db):
    for code, version in VERSIONS.items():
        sections = OverviewSection.objects.filter(language=code).order_by("order")
        assert [s.title for s in sections] == [s.title for s in version.sections]
        assert OverviewLink.objects.filter(language=code).count() == 6
        assert OverviewReview.objects.get(language=code).last_reviewed == version.last_reviewed
    # The English rows kept their content.
    assert OverviewSection.objects.get(language="en", slug="summary").title == "Summary"


@pytest.mark.parametrize(("code", "heading", "reviewed", "version_name"), [
    ("ko", "학습 활용 여부", "최종 검토일: 2026년 11월 30일", "한국어판"),
    ("ja", "学習への利用", "最終確認日:2026年11月30日", "日本語版"),
])
def test_page_in_korean_and_japanese(platform, code, heading, reviewed, version_name):
    response = platform.get(f"/compliance/?lang={code}")

    assert response.status_code == 200
    assert response["Content-Language"] == code
    html = response.content.decode()
    assert f'<article class="card overview" lang="{code}">' in html
    assert f">{heading}</h2>" in html
    assert f'<span id="overview-version">{version_name}</span> · {reviewed}' in html
    assert VERSIONS[code].labels.page_heading in html
    assert f">{VERSIONS[code].labels.references}</h2>" in html
    for link in VERSIONS[code].links:
        assert html_lib.escape(link.name) in html
    assert "Use for training" not in html  # no English section mixed in
    assert 'id="language-fallback"' not in html
    assert f'href="/compliance/security-overview.pdf?lang={code}"' in html


def test_english_page_is_unchanged_and_offers_the_other_languages(platform):
    html = platform.get("/compliance/").content.decode()

    assert ">Use for training</h2>" in html and "학습 활용 여부" not in html
    assert "Last reviewed: 24 November 2026" in html
    assert "Download the Security Overview (PDF)" in html
    assert 'href="/compliance/security-overview.pdf"' in html
    assert '<a lang="ko" hreflang="ko" href="?lang=ko">한국어</a>' in html
    assert '<a lang="ja" hreflang="ja" href="?lang=ja">日本語</a>' in html
    assert platform.get("/compliance/?lang=en").content.decode().count(">Use for training<") == 1


def test_the_active_language_picks_the_version_without_a_lang_parameter(live_db):
    # What LocaleMiddleware will do per request (Accept-Language, a user's choice).
    request = RequestFactory().get("/compliance/", HTTP_HOST=settings.BASE_DOMAIN)
    request.user = AnonymousUser()
    set_urlconf(settings.PUBLIC_SCHEMA_URLCONF)  # as the tenant middleware does
    try:
        with translation.override("ja"):
            response = views.overview(request)
    finally:
        set_urlconf(None)
    assert response["Content-Language"] == "ja"
    assert ">学習への利用</h2>" in response.content.decode()
    with translation.override("ko-kr"):
        assert selectors.overview(language=translation.get_language()).language == "ko"


@pytest.mark.parametrize("code", ["ko", "ja"])
def test_platform_pdf_in_korean_and_japanese(platform, code):
    response = platform.get(f"/compliance/security-overview.pdf?lang={code}")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="TuneAIBot-Security-Overview-{code}.pdf"' in response[
        "Content-Disposition"]
    text = pdf_text(response.content)
    labels = VERSIONS[code].labels
    for section in VERSIONS[code].sections:
        assert section.title in text, section.title
    assert labels.reviewed(VERSIONS[code].last_reviewed) in text
    assert labels.references in text and "Use for training" not in text


def test_an_unknown_lang_parameter_is_a_clear_400(platform):
    for path in ("/compliance/?lang=xx", "/compliance/security-overview.pdf?lang=de"):
        response = platform.get(path)
        assert response.status_code == 400
        body = response.content.decode()
        assert "not available in the language" in body and "en, ko, ja" in body


def test_staff_edit_the_korean_version_and_its_date_in_the_admin(platform, staff):
    section = OverviewSection.objects.get(language="ko", slug="summary")
    review = OverviewReview.objects.get(language="ko")
    platform.force_login(staff)
    try:
        listing = platform.get("/admin/compliance/overviewsection/?language__exact=ko")
        assert listing.status_code == 200
        listed = listing.content.decode()
        assert "요약" in listed and ">Summary<" not in listed

        saved = platform.post(f"/admin/compliance/overviewsection/{section.pk}/change/", {
            "language": "ko", "title": "요약(수정)", "slug": "summary", "order": section.order,
            "body": "- 직원이 수정한 문장입니다.\n" + section.body,
        })
        assert saved.status_code == 302, saved.content.decode()[:2000]
        saved = platform.post(f"/admin/compliance/overviewreview/{review.pk}/change/", {
            "language": "ko", "last_reviewed": "2027-01-02", "reviewed_by": "Staff",
        })
        assert saved.status_code == 302, saved.content.decode()[:2000]

        korean = platform.get("/compliance/?lang=ko").content.decode()
        english = platform.get("/compliance/").content.decode()
        japanese = platform.get("/compliance/?lang=ja").content.decode()
        pdf = pdf_text(platform.get("/compliance/security-overview.pdf?lang=ko").content)

        assert ">요약(수정)</h2>" in korean and "<li>직원이 수정한 문장입니다.</li>" in korean
        assert "최종 검토일: 2027년 1월 2일" in korean
        assert "요약(수정)" in pdf and "직원이 수정한 문장입니다." in pdf
        assert "최종 검토일: 2027년 1월 2일" in pdf
        # The other versions and their dates are untouched.
        assert "수정" not in english and "Last reviewed: 24 November 2026" in english
        assert "最終確認日:2026年11月30日" in japanese
    finally:
        _restore_seed("ko")


def test_admin_refuses_a_second_section_with_the_same_slug_in_one_language(platform, staff):
    platform.force_login(staff)
    before = OverviewSection.objects.count()

    response = platform.post("/admin/compliance/overviewsection/add/", {
        "language": "ja", "title": "重複", "slug": "summary", "order": 9, "body": "本文です。"})

    assert response.status_code == 200  # the form again, with the error
    assert "Language and Slug" in response.content.decode()
    assert OverviewSection.objects.count() == before
    # The same slug in a language that lacks it is fine: the same part, translated.
    OverviewSection.objects.filter(language="ja", slug="summary").delete()
    try:
        added = platform.post("/admin/compliance/overviewsection/add/", {
            "language": "ja", "title": "まとめ", "slug": "summary", "order": 7,
            "body": "- 追加しました。"})
        assert added.status_code == 302
        assert "<li>追加しました。</li>" in platform.get("/compliance/?lang=ja").content.decode()
    finally:
        _restore_seed("ja")


def test_an_empty_lang_parameter_means_the_active_language(platform):
    response = platform.get("/compliance/?lang=")
    assert response.status_code == 200 and ">Use for training</h2>" in response.content.decode()


def test_a_language_without_content_falls_back_to_english_with_a_note(platform):
    OverviewSection.objects.filter(language="ja").delete()
    try:
        html = platform.get("/compliance/?lang=ja").content.decode()
        pdf = platform.get("/compliance/security-overview.pdf?lang=ja")

        note = VERSIONS["ja"].labels.fallback_note
        assert f'<p class="notice" id="language-fallback" lang="ja">{note}</p>' in html
        assert ">Use for training</h2>" in html and "Last reviewed: 24 November 2026" in html
        assert '<article class="card overview" lang="en">' in html
        text = pdf_text(pdf.content)
        assert note in text and "Use for training" in text
        assert "English version · Last reviewed: 24 November 2026" in text
        assert 'filename="TuneAIBot-Security-Overview.pdf"' in pdf["Content-Disposition"]
    finally:
        _restore_seed("ja")
    assert ">学習への利用</h2>" in platform.get("/compliance/?lang=ja").content.decode()


def test_client_pdf_in_korean_appends_the_workspace_settings_under_a_korean_heading(
        make_client, host_client):
    result = make_client("kopdf")
    browser = signed_in_client(result)

    page = browser.get("/compliance/?lang=ko").content.decode()
    response = browser.get("/compliance/security-overview.pdf?lang=ko")

    assert ">학습 활용 여부</h2>" in page
    assert 'href="/compliance/security-overview.pdf?lang=ko"' in page
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert f"귀사 워크스페이스 설정: {result.client.name}" in text
    assert "학습 활용 여부" in text and "gpt-4o-mini" in text
    with schema_context(result.client.schema_name):
        assert OverviewSection.objects.count() == 0


def test_review_dates_are_one_per_language(live_db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        OverviewReview.objects.create(language="ko", last_reviewed=dt.date(2027, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        OverviewSection.objects.create(language="ko", slug="summary", title="x", body="y")


@pytest.mark.parametrize(("accept", "heading"), [("ko-KR,ko;q=0.9", "학습 활용 여부"),
                                                 ("ja", "学習への利用")])
def test_the_browsers_language_picks_the_version(platform, accept, heading):
    response = platform.get("/compliance/", HTTP_ACCEPT_LANGUAGE=accept)
    pdf = platform.get("/compliance/security-overview.pdf", HTTP_ACCEPT_LANGUAGE=accept)

    assert f">{heading}</h2>" in response.content.decode()
    assert heading in pdf_text(pdf.content)
