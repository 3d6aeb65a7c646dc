"""Serving at scale: open answer streams hold no database connection, and one
client's flood waits in its own line (issue 11). Real uvicorn, real Celery
worker, real PostgreSQL and Redis, the local model server."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from tests.conftest import OUTPUT, WebServer
from tests.support.accounts import PASSWORD
from tests.support.site import Site

pytestmark = pytest.mark.worker

POOL_SIZE = 4
END = ("done", "failed", "cancelled")


@pytest.fixture(scope="module")
def small_pool_web(worker_env):
    """A web process with a small database pool (fails fast when it is empty)
    and no per-user rate limit in the way of opening many streams."""
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env={**worker_env, "DB_POOL_MAX_SIZE": str(POOL_SIZE),
                            "DB_POOL_TIMEOUT": "2", "CHAT_RATE_LIMIT_PER_USER": "1000/minute"},
                       log_path=OUTPUT / "web-server-serving.log").start()
    yield server
    server.stop()


def _async_site(site: Site) -> httpx.AsyncClient:
    """The signed-in session of a Site, for many requests at once."""
    return httpx.AsyncClient(base_url=site.http.base_url, headers=dict(site.http.headers),
                             cookies=site.http.cookies, timeout=60)


async def _read_events(http: httpx.AsyncClient, url: str, *, opened: asyncio.Event | None = None,
                       on_open=None) -> list[tuple[str, str, float, dict]]:
    """(id, event, monotonic time received, data) until the answer ends."""
    events = []
    current: dict[str, str] = {}
    async with http.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, response.status_code
        if on_open:
            on_open()
        async for line in response.aiter_lines():
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(": ")
                current[name] = value
                continue
            if "event" in current:
                events.append((current.get("id", ""), current["event"], time.monotonic(),
                               json.loads(current.get("data", "{}"))))
                if current["event"] in END:
                    return events
            current = {}
    return events


def test_open_streams_hold_no_database_connection(make_client, small_pool_web, celery_worker,
                                                  model):
    """Given ten times as many slow answers streaming as the web process has
    database connections, when another client's employee loads pages, then
    every page answers 200 while all those streams are still open."""
    streams_open = POOL_SIZE * 10
    busy = make_client("busy")
    other = make_client("other")
    busy_site = Site(small_pool_web.url(busy.domain.domain)).login("admin@example.com", PASSWORD)
    other_site = Site(small_pool_web.url(other.domain.domain)).login("admin@example.com",
                                                                      PASSWORD)
    answers = [busy_site.ask(f"[[tokens: 400]] [[token-delay: 0.2]] slow question {n}")["answer"]
               for n in range(streams_open)]

    async def scenario():
        opened = 0
        all_open = asyncio.Event()

        def on_open():
            nonlocal opened
            opened += 1
            if opened == streams_open:
                all_open.set()

        async with _async_site(busy_site) as busy_http, _async_site(other_site) as other_http:
            readers = [asyncio.create_task(_read_events(busy_http, a["stream_url"],
                                                        on_open=on_open)) for a in answers]
            opening = asyncio.create_task(all_open.wait())
            await asyncio.wait([opening, *readers], timeout=120,
                               return_when=asyncio.FIRST_COMPLETED)
            for reader in readers:  # a stream refused (503: no database connection left)
                if reader.done():
                    reader.result()
            assert opening.done(), f"only {opened} of {streams_open} streams opened"
            pages = []
            for path in ["/", "/", "/settings/bot/", "/", "/knowledge/"]:
                response = await other_http.get(path)
                pages.append((path, response.status_code))
            pages_done = time.monotonic()
            # And the busy client's own pages too.
            own = (await busy_http.get("/")).status_code
            own_done = time.monotonic()
            for answer in answers:  # end the slow answers
                await busy_http.post(f"/answers/{answer['id']}/stop/",
                                     headers={"X-CSRFToken": busy_site.csrf()})
            events = await asyncio.gather(*readers)
        return pages, pages_done, own, own_done, events

    pages, pages_done, own, own_done, events = asyncio.run(scenario())
    assert all(status == 200 for _path, status in pages), pages
    assert own == 200
    # Overlap, not timing: each stream ended only after the pages were served.
    ends = [stream[-1] for stream in events]
    assert all(event in END for _id, event, _at, _data in ends)
    assert min(at for _id, _event, at, _data in ends) > max(pages_done, own_done)


def test_a_client_over_its_limit_queues_and_others_go_first(make_client, small_pool_web,
                                                            celery_worker, model):
    """Given client A limited to 2 answers in flight, when A sends 5 questions
    and then B sends one, then A's last 3 are queued (in the POST answer and
    on their streams) and all complete, and B's answer starts before any of
    A's queued ones does."""
    from tenants.models import Client

    flood = make_client("flood")
    Client.objects.filter(pk=flood.client.pk).update(answers_in_flight_limit=2,
                                                     answers_in_flight_per_person=2)
    calm = make_client("calm")
    flood_site = Site(small_pool_web.url(flood.domain.domain)).login("admin@example.com",
                                                                      PASSWORD)
    calm_site = Site(small_pool_web.url(calm.domain.domain)).login("admin@example.com", PASSWORD)
    sent = [flood_site.ask(f"[[tokens: 30]] [[token-delay: 0.1]] flood {n}") for n in range(5)]
    calm_sent = calm_site.ask("[[tokens: 5]] calm question")
    assert [s["answer"]["queued"] for s in sent] == [0, 0, 1, 2, 3]
    assert calm_sent["answer"]["queued"] == 0

    async def read_all():
        async with _async_site(flood_site) as flood_http, _async_site(calm_site) as calm_http:
            return await asyncio.gather(
                *(_read_events(flood_http, s["answer"]["stream_url"]) for s in sent),
                _read_events(calm_http, calm_sent["answer"]["stream_url"]))

    *flood_events, calm_events = asyncio.run(read_all())
    for events in [*flood_events, calm_events]:
        assert events[-1][1] == "done", events
    for place, events in enumerate(flood_events[2:], start=1):  # queued, then written
        statuses = [data for _id, event, _at, data in events if event == "status"]
        assert statuses[0]["status"] == "queued" and statuses[0]["place"] == place
        assert statuses[0]["notice"]
        assert statuses[1]["status"] == "streaming"
    with schema_context(flood.client.schema_name):
        assert all(m.status == "done" for m in Message.objects.filter(role="assistant"))

    def redis_ms(event_id: str) -> tuple[int, int]:
        ms, _, seq = event_id.partition("-")
        return int(ms), int(seq)

    def first(events, kind: str) -> tuple[int, int]:
        return min(redis_ms(i) for i, event, _at, _data in events if event == kind)

    calm_first_delta = first(calm_events, "delta")
    # Redis stamps every entry with its own clock: B's first text came before
    # any of A's queued answers even started (their first text).
    assert all(calm_first_delta < first(events, "delta") for events in flood_events[2:])
    # A's queued answers started one by one as A's own slots freed.
    assert first(flood_events[2], "delta") > min(first(e, "done") for e in flood_events[:2])


def test_one_person_flooding_leaves_room_for_a_colleague(make_client, small_pool_web,
                                                         celery_worker, model):
    """Given a client limited to 4 answers in flight (a person's share: 2),
    when one employee sends 8 long questions and then a colleague sends one,
    then the colleague's answer is not queued and its text starts before any
    of the flooder's answers has ended; the flooder's 6 over their share wait
    in line and all complete."""
    from tenants.models import Client
    from tests.support.factories import MemberFactory

    busy = make_client("share")
    Client.objects.filter(pk=busy.client.pk).update(answers_in_flight_limit=4)
    with schema_context(busy.client.schema_name):
        MemberFactory(email="colleague@example.com")
    flooder = Site(small_pool_web.url(busy.domain.domain)).login("admin@example.com", PASSWORD)
    colleague = Site(small_pool_web.url(busy.domain.domain)).login("colleague@example.com",
                                                                    PASSWORD)
    sent = [flooder.ask(f"[[tokens: 60]] [[token-delay: 0.1]] flood {n}") for n in range(8)]
    asked = colleague.ask("[[tokens: 5]] a quick question")
    assert [s["answer"]["queued"] for s in sent] == [0, 0, 1, 2, 3, 4, 5, 6]
    assert asked["answer"]["queued"] == 0

    async def read_all():
        async with _async_site(flooder) as flood_http, _async_site(colleague) as own_http:
            return await asyncio.gather(
                *(_read_events(flood_http, s["answer"]["stream_url"]) for s in sent),
                _read_events(own_http, asked["answer"]["stream_url"]))

    *flood_events, own_events = asyncio.run(read_all())
    for events in [*flood_events, own_events]:
        assert events[-1][1] == "done", events

    def redis_ms(event_id: str) -> tuple[int, int]:
        ms, _, seq = event_id.partition("-")
        return int(ms), int(seq)

    own_first = min(redis_ms(i) for i, event, _at, _data in own_events if event == "delta")
    flood_ends = [redis_ms(i) for events in flood_events
                  for i, event, _at, _data in events if event == "done"]
    assert own_first < min(flood_ends), "the colleague waited for the flooder's answers"
