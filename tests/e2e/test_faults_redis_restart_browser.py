"""Redis restarts while an answer streams into a real Chromium: the page says
the message service is restarting, its stream comes back by itself (after
refused reconnects, 503, while Redis is away) and the answer ends `done`
with the whole stored text, nothing shown twice."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Message
from tests.conftest import OUTPUT, WebServer
from tests.faults.faultsinfra_support import OwnRedis
from tests.support import faultschat
from tests.support.accounts import log_in_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
workers = faultschat.workers


def test_an_answer_streaming_through_a_redis_restart_ends_done_on_the_page(
        make_client, worker_env, workers, model, page, tmp_path):
    own_redis = OwnRedis(tmp_path / "redis").start()
    env = {"REDIS_URL": own_redis.url, "CELERY_BROKER_URL": ""}
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env={**worker_env, **env},
                       log_path=OUTPUT / "web-redis-restart-browser.log").start()
    try:
        workers(**env)
        result = make_client("e2eredis")
        log_in_page(page, server.url(result.domain.domain), start="/")
        model.configure(token_delay=0.3, reply_tokens=40)  # ~12 s

        page.fill("#composer-text", "Keep going while Redis restarts")
        page.click("#send-button")
        answer = page.locator(".msg.assistant").last
        expect(answer.locator(".content")).to_contain_text("You said", timeout=20_000)

        own_redis.stop()
        time.sleep(6)  # the stream's reconnects are refused (503) meanwhile
        own_redis.start()

        expect(answer).to_have_attribute("data-status", "done", timeout=90_000)
        shown = answer.locator(".content").inner_text()
    finally:
        server.stop()
        own_redis.stop()
    with schema_context(result.client.schema_name):
        stored = Message.objects.get(role="assistant")
    assert stored.status == Message.Status.DONE and stored.attempts == 1
    assert len(stored.content.split()) == 40
    assert " ".join(shown.split()) == " ".join(stored.content.split()), "nothing lost or doubled"
    assert page.js_errors == []
