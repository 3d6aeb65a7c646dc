"""The answer path's faults as an employee sees them in a real Chromium: a
send whose response is lost is sent again with the same request id and
stored once; a busy model shows "retrying in N s" in the answer bubble; a
stream broken after text keeps the text, says why, and Retry works."""

from __future__ import annotations

import re

import httpx
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Message
from tenants.members.services import create_member
from tests.support.accounts import PASSWORD, log_in_page

pytestmark = pytest.mark.browser

EMPLOYEE = "employee@example.com"


@pytest.fixture
def site(make_client, web_server, celery_worker, model):
    result = make_client("e2efc")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
    return result, web_server.url(result.domain.domain)


def request_id_of(post_data: str) -> str:
    match = re.search(r'name="request_id"\r\n\r\n([^\r]+)', post_data)
    assert match, post_data
    return match.group(1)


def test_a_send_whose_response_was_lost_is_stored_once(site, page, model):
    result, base_url = site
    log_in_page(page, base_url, EMPLOYEE, start="/")
    sent_ids: list[str] = []

    def lose_first_response(route):
        sent_ids.append(request_id_of(route.request.post_data))
        if len(sent_ids) == 1:
            # The server gets the message and stores it (sent from here over
            # loopback: Playwright's own fetch cannot resolve *.localhost)...
            url = httpx.URL(route.request.url)
            headers = {k: v for k, v in route.request.all_headers().items()
                       if not k.startswith(":")}
            headers["host"] = f"{url.host}:{url.port}"
            stored_it = httpx.post(str(url.copy_with(host="127.0.0.1")), headers=headers,
                                   content=route.request.post_data_buffer, timeout=30)
            assert stored_it.status_code == 201, stored_it.text
            route.abort("connectionreset")  # ...but its answer never reaches the browser
        else:
            route.continue_()

    page.route(re.compile(r"/send/$"), lose_first_response)
    page.fill("#composer-text", "Book the meeting room")
    page.click("#send-button")

    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    assert len(sent_ids) == 2 and sent_ids[0] == sent_ids[1], "retried with the same id"
    expect(page.locator(".msg.user")).to_have_count(1)
    expect(page.locator("#composer-error")).to_be_hidden()
    with schema_context(result.client.schema_name):
        assert Message.objects.filter(role="user").count() == 1
        assert Message.objects.filter(role="assistant").count() == 1
    # The next message is a new one (a new id), not a repeat.
    page.fill("#composer-text", "Book the meeting room")
    page.click("#send-button")
    expect(page.locator(".msg.user")).to_have_count(2)
    assert sent_ids[2] != sent_ids[0]
    expect(page.locator(".msg.assistant").last).to_have_attribute("data-status", "done",
                                                                  timeout=20_000)


def test_a_busy_model_is_explained_while_the_employee_waits(site, page, model):
    result, base_url = site
    log_in_page(page, base_url, EMPLOYEE, start="/")
    model.configure(fail_next=1, fail_status=429, retry_after=3)

    page.fill("#composer-text", "Are you there?")
    page.click("#send-button")

    notice = page.locator(".msg.assistant .answer-notice")
    expect(notice).to_have_text("The model is busy; retrying in 3 s…", timeout=10_000)
    expect(notice).to_be_visible()
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    expect(notice).to_be_hidden()
    expect(answer.locator(".content")).to_contain_text("You said: Are you there?")


def test_a_broken_stream_keeps_its_text_and_retry_works(site, page, model):
    result, base_url = site
    log_in_page(page, base_url, EMPLOYEE, start="/")
    model.configure(reply_tokens=10)

    page.fill("#composer-text", "Tell me [[truncate: 4]]")
    page.click("#send-button")

    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "failed", timeout=20_000)
    expect(answer.locator(".answer-error")).to_contain_text("The answer was cut off")
    expect(answer.locator(".content")).to_contain_text("You said: Tell me")
    retry = answer.locator(".act-regenerate")
    expect(retry).to_have_text("Retry")
    page.reload()  # the history keeps the partial text and the sentence too
    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".content")).to_contain_text("You said: Tell me")
    expect(answer.locator(".answer-error")).to_contain_text("The answer was cut off")
    answer.locator(".act-regenerate").click()
    expect(page.locator(".msg.assistant").last).to_have_attribute("data-status", "failed",
                                                                  timeout=20_000)
