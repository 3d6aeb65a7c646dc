"""Redis restarts while answers are being written, and a worker that lost its
lease comes back: real workers, a real web server, a real redis-server of the
test's own that is stopped and started again (tests/faults/faultsinfra_support.py).

- An answer in flight when Redis restarts ends `done` with its whole text:
  its worker keeps the text while Redis is away and sends it when Redis is
  back, the browser's stream reconnects with Last-Event-ID and resumes;
  nothing is lost or shown twice, and the answer is not redone.
- A worker frozen past its lease (another worker redid the answer and
  finished it) writes nothing when it wakes up: neither a stream entry nor
  its own outcome in the database (the fence).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pytest
import redis

from chat.models import Message
from tests.conftest import OUTPUT, WebServer
from tests.faults.faultsinfra_support import OwnRedis
from tests.support import faultschat
from tests.support.accounts import signed_in_site
from tests.support.faultschat import stored
from tests.support.site import END_EVENTS, Event, Site, text_of

pytestmark = [pytest.mark.worker, pytest.mark.timeout(400)]
workers = faultschat.workers  # the fixture: workers started with extra settings


def read_like_a_browser(site: Site, url: str, *, deadline: float) -> list[Event]:
    """The answer's events as EventSource reads them: after an error, a refused
    connection (503 while Redis is away) or a response that ends without an
    end event, it connects again with Last-Event-ID, a second later."""
    events: list[Event] = []
    while time.monotonic() < deadline:
        last_id = next((e.id for e in reversed(events) if e.id), None)
        try:
            with site.http.stream("GET", url, timeout=httpx.Timeout(10, read=30), headers={
                    "Accept": "text/event-stream",
                    **({"Last-Event-ID": last_id} if last_id else {})}) as response:
                if response.status_code == 200:
                    current: dict = {}
                    for line in response.iter_lines():
                        if not line:
                            if "event" in current:
                                events.append(Event(current.get("id"), current["event"],
                                                    json.loads(current.get("data") or "{}")))
                                if current["event"] in END_EVENTS:
                                    return events
                            current = {}
                        elif not line.startswith(":"):
                            field, _, value = line.partition(": ")
                            current[field] = value
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(1)
    return events


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def test_answers_in_flight_finish_whole_through_a_redis_restart(
        make_client, worker_env, workers, model, own_redis):
    env = {"REDIS_URL": own_redis.url, "CELERY_BROKER_URL": ""}
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env={**worker_env, **env},
                       log_path=OUTPUT / "web-redis-restart.log").start()
    try:
        workers(**env)
        result = make_client("redisrestart")
        site = signed_in_site(server, result)
        model.configure(token_delay=0.15, reply_tokens=40)  # ~6 s an answer
        sent = [site.ask(f"Question {n} during a Redis restart") for n in range(3)]
        seen: dict[int, list[Event]] = {}
        deadline = time.monotonic() + 120
        readers = [threading.Thread(target=lambda item=item: seen.__setitem__(
            item["answer"]["id"],
            read_like_a_browser(site, item["answer"]["stream_url"], deadline=deadline)))
            for item in sent]
        for reader in readers:
            reader.start()
        probe = redis.Redis.from_url(own_redis.url, decode_responses=True)
        started = time.monotonic()
        while any(probe.xlen(f"answer:{result.client.schema_name}:{item['answer']['id']}:events")
                  < 4 for item in sent) and time.monotonic() - started < 60:
            time.sleep(0.1)  # every answer is streaming its text

        own_redis.stop()
        time.sleep(3)
        own_redis.start()

        for reader in readers:
            reader.join(timeout=max(1.0, deadline - time.monotonic()) + 5)
    finally:
        server.stop()

    for item in sent:
        events = seen[item["answer"]["id"]]
        answer = stored(result, item["answer"]["id"])
        assert events and events[-1].event == "done", [e.event for e in events][-5:]
        assert answer.status == Message.Status.DONE
        assert answer.attempts == 1, "finished by the worker that started it, not redone"
        shown = text_of(events)
        assert shown == answer.content, "shown as stored: nothing lost, nothing twice"
        assert len(answer.content.split()) == 40
        assert not any(e.event == "reset" for e in events)


def test_a_worker_frozen_past_its_lease_writes_nothing_when_it_wakes(
        make_client, web_server, workers, model):
    result = make_client("fenced")
    site = signed_in_site(web_server, result)
    schema = result.client.schema_name
    client = redis.Redis.from_url(worker_env_redis_url(), decode_responses=True)
    frozen = workers(CHAT_LEASE_SECONDS="3")
    model.configure(token_delay=0.2, reply_tokens=30)

    sent = site.ask("Write slowly, then be redone")
    answer_id, url = sent["answer"]["id"], sent["answer"]["stream_url"]
    events_key = f"answer:{schema}:{answer_id}:events"
    before = site.events(url, limit=3)
    os.killpg(frozen.process.pid, signal.SIGSTOP)  # a long GC pause, a frozen VM
    try:
        model.configure(token_delay=0.02, reply_tokens=30)
        workers(CHAT_LEASE_SECONDS="3")  # redoes the answer once the lease lapsed
        after = read_like_a_browser(site, url, deadline=time.monotonic() + 120)
        assert after and after[-1].event == "done"
        ended_at = len(client.xrange(events_key))
        finished = stored(result, answer_id)
    finally:
        os.killpg(frozen.process.pid, signal.SIGCONT)
    time.sleep(4)  # the frozen worker runs again: its model stream, flusher, keeper

    entries = client.xrange(events_key)
    assert len(entries) == ended_at, [fields["event"] for _id, fields in entries[ended_at:]]
    answer = stored(result, answer_id)
    assert (answer.status, answer.attempts, answer.content, answer.updated) == (
        Message.Status.DONE, 2, finished.content, finished.updated), "nothing saved over it"
    assert text_of(before + after) == answer.content
    assert client.get(f"answer:{schema}:{answer_id}:lease") is None, "no lease taken back"


def worker_env_redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL
