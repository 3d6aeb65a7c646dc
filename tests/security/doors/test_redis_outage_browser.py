"""In a real Chromium: a page whose answer is still being written, opened
while Redis is down, tells the employee so (the stream answers 503, which
EventSource does not retry) instead of spinning forever."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.conftest import OUTPUT, WebServer
from tests.support.accounts import log_in_page
from tests.support.factories import AnswerFactory, client_admin

pytestmark = pytest.mark.browser


def test_a_streaming_answer_opened_during_an_outage_says_the_assistant_is_unavailable(
    make_client, worker_env, tmp_path, page
):
    result = make_client("outage-ui")
    with schema_context(result.client.schema_name):
        from compliance import selectors, services

        admin = client_admin()
        services.accept_notice(user=admin)
        conversation = AnswerFactory(reply_to__conversation__user=admin,
                                     reply_to__conversation__title="In flight",
                                     reply_to__content="Tell me about leave",
                                     status="streaming").conversation
        assert selectors.has_accepted_notice(user=admin)
    server = WebServer(env={**worker_env, "REDIS_URL": f"unix://{tmp_path}/gone.sock"},
                       log_path=OUTPUT / "web-server-doors-outage-ui.log").start()
    try:
        base = server.url(result.domain.domain)
        log_in_page(page, base, accept_notice=False)  # accepted above

        page.goto(f"{base}/c/{conversation.pk}/")

        error = page.locator("#composer-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("temporarily unavailable")
        expect(error).to_contain_text("conversation is safe")
        expect(page.locator("#send-button")).to_be_enabled()
        assert page.js_errors == []
    finally:
        server.stop()
