"""In a real Chromium: a tenant admin uploads a PDF and watches it become
ready; an employee asks about it and sees the citation, which opens the passage."""

from __future__ import annotations

import re
import time

import pytest
from django.db.models import F
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from knowledge.models import KnowledgeFile
from tenants.members.services import create_member
from tests.knowledge.fixtures_documents import PdfPage, make_pdf
from tests.support.accounts import PASSWORD, log_in_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]

EMPLOYEE = "employee@example.com"
FACT = "The heron parking garage opens at 6:45 every weekday."


def test_admin_uploads_a_pdf_and_an_employee_sees_the_citation(
        make_client, web_server, celery_worker, model, open_page, output_dir):
    result = make_client("knb")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
    base_url = web_server.url(result.domain.domain)
    pdf = make_pdf([PdfPage(lines=["Facilities handbook."]),
                    PdfPage(lines=[FACT], bookmarks=["Parking"])])

    admin = open_page(timeout=30_000)
    log_in_page(admin, base_url)
    admin.click(".topbar >> text=Knowledge")
    admin.set_input_files("#file-input", files=[
        {"name": "facilities.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    upload_line = admin.locator("#uploads li").first
    expect(upload_line).to_have_attribute("data-state", "ready")
    expect(upload_line).to_contain_text("ready")
    row = admin.locator("tr.kfile", has_text="facilities.pdf")
    expect(row.locator(".kfile-status")).to_have_text(re.compile("Ready"))
    expect(row.locator(".kfile-counts")).to_have_text("2 / 2")
    admin.screenshot(path=str(output_dir / "knowledge-library.png"), full_page=True)

    # MiniLM's vectors follow in the background: a line says how far while
    # they are added (counts set on the row once the worker is done with it),
    # and the page's polling removes it once every passage has one.
    file_id = int(row.get_attribute("data-file-id"))
    with schema_context(result.client.schema_name):
        deadline = time.monotonic() + 120
        while KnowledgeFile.objects.filter(pk=file_id, minilm_chunks__lt=F("chunk_count")).exists():
            assert time.monotonic() < deadline, "the worker added no MiniLM vectors"
            time.sleep(0.2)
        KnowledgeFile.objects.filter(pk=file_id).update(minilm_chunks=1)
    admin.reload()
    improving = admin.locator("tr.kfile .kfile-minilm")
    expect(improving).to_have_text("Improving semantic search: 1 of 2 passages")
    with schema_context(result.client.schema_name):
        KnowledgeFile.objects.filter(pk=file_id).update(minilm_chunks=2)
    expect(improving).to_have_count(0)

    employee = open_page(timeout=30_000)
    log_in_page(employee, base_url, EMPLOYEE)
    expect(employee.locator(".topbar >> text=Knowledge")).to_have_count(0)
    employee.fill("#composer-text", "When does the heron parking garage open?")
    employee.click("#send-button")
    citation = employee.locator(".msg.assistant .citation").first
    expect(citation).to_have_text("[1] facilities.pdf, p. 2")
    employee.screenshot(path=str(output_dir / "knowledge-citation.png"), full_page=True)
    sent = model.requests("/v1/chat/completions")[-1]["body"]
    assert any(FACT in message["content"] for message in sent["messages"])

    employee.goto(base_url + citation.get_attribute("href"))
    expect(employee.locator(".passage-source")).to_have_text("facilities.pdf, page 2")
    expect(employee.locator(".passage-text")).to_contain_text(FACT)
    employee.screenshot(path=str(output_dir / "knowledge-passage.png"), full_page=True)
