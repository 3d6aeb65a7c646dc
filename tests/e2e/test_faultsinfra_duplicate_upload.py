"""In a real Chromium: uploading a file already in the library says so, and the
admin keeps the existing file or replaces it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.accounts import log_in_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]

POLICY = b"# Travel policy\n\nBook trains for trips under four hours.\n"


def test_a_duplicate_upload_offers_keep_or_replace(
        make_client, web_server, celery_worker, open_page, output_dir):
    result = make_client("dupbrowser")
    admin = open_page(timeout=30_000)
    log_in_page(admin, web_server.url(result.domain.domain))
    admin.click(".topbar >> text=Knowledge")

    def choose(name: str) -> None:
        admin.set_input_files("#file-input", files=[
            {"name": name, "mimeType": "text/markdown", "buffer": POLICY}])

    choose("travel.md")
    first = admin.locator("#uploads li").nth(0)
    expect(first).to_have_attribute("data-state", "ready")

    choose("travel copy.md")
    second = admin.locator("#uploads li").nth(1)
    expect(second).to_have_attribute("data-state", "duplicate")
    expect(second).to_contain_text("already in the library as “travel.md”")
    admin.screenshot(path=str(output_dir / "duplicate-upload.png"), full_page=True)
    second.get_by_role("button", name="Keep the existing file").click()
    expect(second).to_contain_text("Nothing new was added: the library keeps “travel.md”.")
    expect(admin.locator("tr.kfile")).to_have_count(1)

    choose("travel-2026.md")
    third = admin.locator("#uploads li").nth(2)
    third.get_by_role("button", name="Replace it with this upload").click()
    expect(third).to_have_attribute("data-state", "ready")
    rows = admin.locator("tr.kfile")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".kfile-name")).to_have_text("travel-2026.md")
    expect(rows.first.locator(".kfile-status")).to_have_text(re.compile("Ready"))
