"""The answer path when a process fails: PostgreSQL cut off from the worker
while the model streams (the answer is shown whole, never "failed", and is in
the history once the database is back), a worker killed mid-answer (noticed
through its lease and redone once, long before the broker would hand the task
back), and a model that drips slower than the answer's deadline.

Real processes throughout; tests/support/proxy.py's OutageProxy stands
between the worker and PostgreSQL (the web server and the test use the real
database directly)."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from tests.conftest import test_database_url as database_url_of_tests
from tests.support import faultschat
from tests.support.accounts import signed_in_site
from tests.support.faultschat import Watched, ask_and_watch, record, stored, tally
from tests.support.proxy import OutageProxy
from tests.support.site import text_of

pytestmark = pytest.mark.worker
workers = faultschat.workers  # the fixture: workers started with extra settings


@pytest.fixture
def db_proxy(django_db_setup):
    proxy = OutageProxy.for_postgres_url(database_url_of_tests()).up()
    yield proxy
    proxy.down()


def _wait_for(predicate, *, timeout: float, every: float = 0.5):
    """Poll until predicate() is truthy (a timeout, not a measured bound)."""
    give_up = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > give_up:
            return value
        time.sleep(every)


@pytest.mark.parametrize("saved_by", ["worker", "sweep"])
def test_an_answer_finished_while_the_database_is_down_is_kept(
        make_client, web_server, workers, model, db_proxy, saved_by):
    result = make_client("dbdown")
    site = signed_in_site(web_server, result)
    workers(DATABASE_URL=db_proxy.proxied_postgres_url(database_url_of_tests()),
            DB_POOL_TIMEOUT="2",
            # "sweep": the worker gives up at once; the beat sweep saves the kept copy.
            CHAT_FINAL_SAVE_SECONDS="300" if saved_by == "worker" else "1")
    model.configure(token_delay=0.2, reply_tokens=20)

    started = time.monotonic()
    sent = site.ask("Summarise the handbook")
    url = sent["answer"]["stream_url"]
    before = site.events(url, limit=2)
    db_proxy.down()
    after = site.events(url, last_event_id=before[-1].id, timeout=120)
    seen_after = time.monotonic() - started
    events = before + after

    # The employee saw the whole answer, and nothing said "failed".
    assert after[-1].event == "done", after[-1]
    assert "failed" not in [e.event for e in events]
    shown = text_of(events)
    assert shown.startswith("You said: Summarise the handbook") and len(shown.split()) == 20
    assert stored(result, sent["answer"]["id"]).status == Message.Status.STREAMING, \
        "the worker cannot have saved it: its database is cut off"

    db_proxy.up()
    if saved_by == "sweep":
        from chat import services

        def swept() -> bool:
            with schema_context(result.client.schema_name):
                services.fail_abandoned_answers()  # what celery beat runs per client
            return stored(result, sent["answer"]["id"]).is_finished

        assert _wait_for(swept, timeout=60)
    answer = _wait_for(lambda: (a := stored(result, sent["answer"]["id"])).is_finished and a,
                       timeout=60)
    assert answer and answer.status == Message.Status.DONE
    assert answer.content == shown and answer.error == ""
    assert answer.completion_tokens == 20
    saved_after = time.monotonic() - started
    page = site.http.get(sent["conversation_url"]).text
    assert "Summarise the handbook" in page and "failed" not in page.lower()
    counts = tally(result, [Watched(sent, events, seen_after)])
    assert (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0), counts
    with schema_context(result.client.schema_name):
        from compliance.models import AuditRecord

        if saved_by == "worker":  # the deferred audit record of the model call is written
            assert AuditRecord.objects.filter(kind="chat", status="ok").count() == 1
    record(f"PostgreSQL down while streaming (saved by {saved_by})", seen_after,
           f"whole answer shown as done; saved {saved_after:.1f} s after sending "
           "(DB back after the stream)",
           "save retried CHAT_FINAL_SAVE_SECONDS (300 s), then the beat sweep")


def test_a_killed_worker_is_noticed_by_its_lease_and_the_answer_redone_once(
        make_client, web_server, workers, model):
    result = make_client("killed")
    site = signed_in_site(web_server, result)
    # The broker would hand the task back only after an hour: any redo seen
    # here comes from the lease check.
    slow_broker = {"CELERY_VISIBILITY_TIMEOUT": "3600", "CHAT_LEASE_SECONDS": "3"}
    doomed = workers(**slow_broker)
    model.configure(token_delay=0.15, reply_tokens=30)

    started = time.monotonic()
    sent = site.ask("Explain our leave policy")
    url = sent["answer"]["stream_url"]
    before = site.events(url, limit=4)
    doomed.kill()
    killed_at = time.monotonic()
    workers(**slow_broker)
    after = site.events(url, last_event_id=before[-1].id, timeout=120)
    seen = time.monotonic() - started

    kinds = [e.event for e in after]
    assert kinds[-1] == "done"
    notice = next(e for e in after if e.event == "status" and e.data.get("reason") == "worker_lost")
    assert "starting the answer again" in notice.data["notice"]
    assert after.index(notice) < kinds.index("reset") < len(kinds) - 1
    answer = stored(result, sent["answer"]["id"])
    assert answer.status == Message.Status.DONE and answer.attempts == 2
    assert text_of(before + after) == answer.content, "nothing doubled on screen"
    assert len(answer.content.split()) == 30
    assert len(model.requests("/v1/chat/completions")) == 2
    counts = tally(result, [Watched(sent, before + after, seen)])
    assert (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0), counts
    record("worker killed mid-answer (kill -9)", time.monotonic() - killed_at,
           "redone once, done (from the kill to the redone answer's end, including a "
           "new worker's start-up and the whole answer again)",
           "CHAT_LEASE_SECONDS (15 s) + CHAT_STALE_CHECK_SECONDS (5 s) ~ 20 s to notice; "
           "3 s + 5 s here; broker visibility timeout 300 s default / 3600 s here")


def test_a_slow_drip_ends_at_the_deadline_and_the_chat_goes_on(
        make_client, web_server, workers, model):
    result = make_client("drip")
    site = signed_in_site(web_server, result)
    workers(CHAT_ANSWER_DEADLINE_SECONDS="5", MODEL_TIMEOUT_SECONDS="3")

    watched = ask_and_watch(site, "Go slowly [[token-delay: 1.5]] [[tokens: 30]]")

    assert watched.end.event == "failed"
    assert "longer than the 5-second limit" in watched.end.data["error"]
    shown = watched.text
    assert shown.startswith("You said:") and 1 <= len(shown.split()) < 30
    answer = stored(result, watched.sent["answer"]["id"])
    assert answer.status == Message.Status.FAILED and answer.content == shown
    assert "CHAT_ANSWER_DEADLINE_SECONDS" in answer.error_detail
    follow = site.send("Are you back?", watched.sent["conversation_id"])
    assert follow.status_code == 201, "the conversation takes new messages"
    assert site.events(follow.json()["answer"]["stream_url"])[-1].event == "done"
    counts = tally(result, [watched])
    assert (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0), counts
    record("slow drip (1 chunk / 1.5 s)", watched.seconds, "failed at the deadline, text kept",
           "CHAT_ANSWER_DEADLINE_SECONDS (5 s here, 300 s default) + at most one idle "
           "timeout")


def test_a_worker_whose_lease_was_taken_over_stops_writing(
        make_client, web_server, workers, model):
    """As after a Redis blip longer than the lease: another worker holds the
    answer now. The first stops without a word (no end event, no save), and
    the answer is redone once without doubled text."""
    import redis
    from django.conf import settings

    result = make_client("takeover")
    site = signed_in_site(web_server, result)
    workers(CHAT_LEASE_SECONDS="3")
    model.configure(token_delay=0.2, reply_tokens=30)
    schema = result.client.schema_name
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)

    sent = site.ask("Write slowly")
    url = sent["answer"]["stream_url"]
    answer_id = sent["answer"]["id"]
    before = site.events(url, limit=3)
    # Another worker takes the answer as chat.leases.take_lease does (its
    # lease, the next fence number), in one step so the keeper cannot renew
    # ours in between.
    pipe = client.pipeline(transaction=True)
    pipe.delete(f"answer:{schema}:{answer_id}:lease")
    pipe.set(f"answer:{schema}:{answer_id}:lease", "another-worker", ex=60)
    pipe.incr(f"answer:{schema}:{answer_id}:fence")
    pipe.execute()
    time.sleep(1.5)  # the writer's next entry is refused (the fence is not its own)
    length = client.xlen(f"answer:{schema}:{answer_id}:events")
    time.sleep(1.5)
    assert client.xlen(f"answer:{schema}:{answer_id}:events") == length, "it stopped writing"
    assert client.get(f"answer:{schema}:{answer_id}:lease") == "another-worker", \
        "its lease keeper did not take the lease back"
    assert stored(result, answer_id).status == Message.Status.STREAMING, "and saved nothing"

    client.delete(f"answer:{schema}:{answer_id}:lease")  # the other one vanished too
    after = site.events(url, last_event_id=before[-1].id, timeout=120)

    assert after[-1].event == "done"
    answer = stored(result, answer_id)
    assert answer.status == Message.Status.DONE and answer.attempts == 2
    assert text_of(before + after) == answer.content and len(answer.content.split()) == 30
    counts = tally(result, [Watched(sent, before + after, 0.0)])
    assert (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0), counts
