"""A worker killed mid-answer, Redis down, and no API key anywhere."""

import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from tests.conftest import OUTPUT, WebServer
from tests.support import faultschat
from tests.support.accounts import signed_in_site
from tests.support.factories import (
    AnswerFactory,
    ConversationFactory,
    QuestionFactory,
    client_admin,
)
from tests.support.site import text_of

pytestmark = pytest.mark.worker


workers = faultschat.workers  # the fixture: workers started with extra settings


def test_worker_killed_mid_answer_is_redone_once_without_duplicates(
    make_client, web_server, workers, model
):
    result = make_client("kill")
    site = signed_in_site(web_server, result)
    # Tasks come back after 3 s when their worker dies; leases expire after 3 s.
    fast_recovery = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_RESTORE_INTERVAL": "1",
                     "CHAT_LEASE_SECONDS": "3"}
    doomed = workers(**fast_recovery)
    model.configure(token_delay=0.15, reply_tokens=30)

    sent = site.ask("Explain our leave policy")
    before = site.events(sent["answer"]["stream_url"], limit=4)
    doomed.kill()
    workers(**fast_recovery)
    after = site.events(sent["answer"]["stream_url"], last_event_id=before[-1].id, timeout=90)

    assert after[-1].event == "done"
    assert any(e.event == "reset" for e in after), "the browser is told to start over"
    with schema_context(result.client.schema_name):
        answer = Message.objects.get(pk=sent["answer"]["id"])
        assert answer.status == Message.Status.DONE and answer.attempts == 2
        assert Message.objects.filter(conversation_id=sent["conversation_id"]).count() == 2
    # What the browser shows equals the stored answer: nothing doubled.
    assert text_of(before + after) == answer.content
    assert answer.content.startswith("You said: Explain our leave policy")
    assert len(answer.content.split()) == 30


def test_redis_down_refuses_sending_but_history_still_reads(
    make_client, worker_env, model, tmp_path
):
    result = make_client("noredis")
    with schema_context(result.client.schema_name):
        conversation = ConversationFactory(user=client_admin(), title="Earlier chat")
        AnswerFactory(reply_to__conversation=conversation, reply_to__content="What did we decide?",
                      content="We decided to **ship** on Friday.")
    dead_redis = f"unix://{tmp_path}/no-redis-here.sock"
    server = WebServer(env={**worker_env, "REDIS_URL": dead_redis},
                       log_path=OUTPUT / "web-server-no-redis.log").start()
    try:
        site = signed_in_site(server, result)

        history = site.http.get(f"/c/{conversation.pk}/")
        assert history.status_code == 200
        assert "<strong>ship</strong>" in history.text

        response = site.send("Are you there?", conversation.pk)
        assert response.status_code == 503
        assert "temporarily unavailable" in response.json()["error"]
        health = site.http.get("/healthz")
        assert health.status_code == 503 and health.json()["redis"] == "down"
    finally:
        server.stop()
    with schema_context(result.client.schema_name):
        assert conversation.messages.count() == 2  # nothing half-stored


def test_no_api_key_anywhere_gives_a_labelled_offline_answer(
    make_client, web_server, workers, model
):
    result = make_client("offline")
    workers(OPENAI_API_KEY="")
    site = signed_in_site(web_server, result)

    sent = site.ask("Hello?")
    events = site.events(sent["answer"]["stream_url"])

    assert events[-1].event == "done"
    assert events[0].data == {"status": "streaming", "offline": True}
    assert "Offline mode" in text_of(events) and "not an AI answer" in text_of(events)
    assert model.requests() == [], "nothing was sent to any model"
    page = site.http.get(sent["conversation_url"]).text
    assert "Offline mode" in page


def test_abandoned_streaming_answer_ends_failed(make_client, web_server, model):
    """An answer whose worker vanished (no lease) does not stay 'streaming'."""
    from chat import services

    result = make_client("stuck")
    with schema_context(result.client.schema_name):
        question = QuestionFactory(conversation__user=client_admin(), content="Hi")
        # Already redone once (attempts=2): a second dead worker means it fails.
        answer = AnswerFactory(reply_to=question, status="streaming", attempts=2,
                               age_minutes=10)
        lost = AnswerFactory(reply_to=question, status="pending", age_minutes=30)
        waiting = AnswerFactory(reply_to=question, status="pending")

        assert services.fail_abandoned_answers() == 2

        answer.refresh_from_db()
        assert answer.status == "failed" and "try again" in answer.error
        lost.refresh_from_db()
        assert lost.status == "failed" and "did not get to your question" in lost.error
        waiting.refresh_from_db()
        assert waiting.status == "pending"  # queued a moment ago: left alone
