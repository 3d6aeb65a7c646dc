"""An employee whose company has used up its answers in flight sees the
question wait as queued in the chat, then answered (issue 11)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_chat_browser import (  # noqa: F401
    EMPLOYEE,
    LAST_ANSWER,
    send,
    site,
    wait_done,
)
from tests.support.accounts import PASSWORD, log_in_page
from tests.support.site import Site

pytestmark = pytest.mark.browser


def test_over_the_limit_the_answer_shows_queued_then_arrives(site, page, model,  # noqa: F811
                                                             output_dir):
    from tenants.models import Client

    result, base_url = site
    Client.objects.filter(pk=result.client.pk).update(answers_in_flight_limit=1)
    # The company's one slot: the admin's slow answer (about 20 s).
    admin = Site(base_url).login("admin@example.com", PASSWORD)
    busy = admin.ask("[[tokens: 200]] [[token-delay: 0.1]] a long report")["answer"]
    assert busy["queued"] == 0
    log_in_page(page, base_url, EMPLOYEE)

    send(page, "Where is the office?")
    page.wait_for_function(f"() => ({LAST_ANSWER})()?.status === 'queued'")
    notice = page.locator(".msg.assistant").last.locator(".answer-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("next in line")
    page.screenshot(path=output_dir / "queued.png")
    # Still queued while the admin's answer is being written.
    admin_events = admin.events(busy["stream_url"], limit=3)
    assert admin_events[-1].event == "delta"
    assert page.evaluate(LAST_ANSWER)["status"] == "queued"

    final = wait_done(page, timeout=60_000)
    assert "Where is the office?" in final["text"]
    expect(notice).to_be_hidden()
    assert admin.events(busy["stream_url"])[-1].event == "done"
    assert page.js_errors == []
