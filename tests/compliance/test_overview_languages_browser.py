"""In a real Chromium: a reader switches the Security overview to Korean and
Japanese and downloads the PDF of the version shown. Screenshots go to
test-output/<test name>/."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.conftest import browser, page  # noqa: F401 - shared Chromium fixtures

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("name", "code", "heading", "reviewed"), [
    ("한국어", "ko", "학습 활용 여부", "최종 검토일: 2026년 11월 30일"),
    ("日本語", "ja", "学習への利用", "最終確認日:2026年11月30日"),
], ids=["ko", "ja"])
def test_reader_switches_language_and_downloads_that_versions_pdf(
        live_db, web_server, page, output_dir, name, code, heading, reviewed):  # noqa: F811
    page.goto(web_server.url(settings.BASE_DOMAIN) + "/compliance/")
    page.click(f"nav.overview-languages a[lang={code}]")

    expect(page.locator("article.overview")).to_have_attribute("lang", code)
    expect(page.locator("#use-for-training h2")).to_have_text(heading)
    expect(page.locator("#last-reviewed")).to_contain_text(reviewed)
    expect(page.locator("nav.overview-languages [aria-current]")).to_have_text(name)
    page.screenshot(path=output_dir / f"security-overview-{code}.png", full_page=True)

    with page.expect_download() as download_info:
        page.click("#download-pdf")
    download = download_info.value
    path = output_dir / download.suggested_filename
    download.save_as(path)

    assert download.suggested_filename == f"TuneAIBot-Security-Overview-{code}.pdf"
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert heading in text and reviewed in text
