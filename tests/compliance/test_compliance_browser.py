"""In a real Chromium: a staff member reads the security overview and downloads
its PDF; an employee sees the data notice and what was redacted from a message.
Screenshots go to test-output/<test name>/."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from django.conf import settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.members.services import create_member
from tests.e2e.conftest import browser, page  # noqa: F401 - shared Chromium fixtures
from tests.support.accounts import PASSWORD, log_in_admin_page, log_in_page

pytestmark = pytest.mark.browser

EMPLOYEE = "employee@example.com"


def test_staff_reads_the_overview_and_downloads_the_pdf(staff, web_server, page,  # noqa: F811
                                                        output_dir):
    platform = web_server.url(settings.BASE_DOMAIN)
    log_in_admin_page(page, platform, staff.email)
    page.goto(platform + "/admin/compliance/overviewsection/")
    expect(page.locator("#result_list")).to_contain_text("Use for training")
    page.screenshot(path=output_dir / "admin-overview-sections.png", full_page=True)

    page.goto(platform + "/compliance/")
    expect(page.locator("h1")).to_contain_text("will my data be used for training?")
    expect(page.locator("#use-for-training")).to_contain_text("1 March 2023")
    expect(page.locator("#last-reviewed")).to_contain_text("24 November 2026")
    expect(page.locator("table.links tbody tr")).to_have_count(6)
    page.screenshot(path=output_dir / "security-overview.png", full_page=True)

    with page.expect_download() as download_info:
        page.click("#download-pdf")
    download = download_info.value
    path = output_dir / download.suggested_filename
    download.save_as(path)

    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert download.suggested_filename == "TuneAIBot-Security-Overview.pdf"
    assert "Summary" in text and "1 March 2023" in text


def test_employee_accepts_the_notice_and_sees_what_was_redacted(
        make_client, web_server, celery_worker, model, page, output_dir):  # noqa: F811
    result = make_client("e2e-privacy")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
    base = web_server.url(result.domain.domain)

    log_in_page(page, base, EMPLOYEE, start="/", accept_notice=False)  # read it first
    notice = page.locator("#data-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Personal data is redacted before it leaves")
    expect(page.locator("#training-link")).to_have_attribute(
        "href", re.compile(r"/compliance/$"))
    page.screenshot(path=output_dir / "first-use-notice.png", full_page=True)
    page.click("#accept-notice")
    expect(page.locator("#data-notice")).to_have_count(0)

    page.fill("#composer-text", "Please email jane.doe@example.com the report")
    page.click("#send-button")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    expect(answer.locator(".redaction-note")).to_have_text(
        "Redacted before sending: jane.doe@example.com → <EMAIL_1>")
    expect(answer.locator(".content")).to_contain_text(
        "You said: Please email jane.doe@example.com the report")
    page.screenshot(path=output_dir / "redaction-note.png", full_page=True)
    [request] = model.requests("/v1/chat/completions")
    assert request["body"]["messages"][-1]["content"] == "Please email <EMAIL_1> the report"

    page.goto(base + "/workspace-data/")
    expect(page.locator("table.facts")).to_contain_text("Redaction before the model")
    page.screenshot(path=output_dir / "workspace-data.png", full_page=True)
    assert page.js_errors == []
