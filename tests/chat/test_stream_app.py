"""The answer stream's fast path (chat/stream_app.py): a signed stream token
from the POST serves the stream with no database and no session lookup;
any other token goes to the Django view and its session checks. Real
uvicorn processes, a real Celery worker, PostgreSQL, Redis, the local model
server."""

from __future__ import annotations

import asyncio
import html
import re
import time
import uuid

import httpx
import pytest
from django.core import signing
from django_tenants.utils import schema_context

from chat import sse
from chat.models import Message
from tests.conftest import OUTPUT, WebServer
from tests.support.accounts import PASSWORD
from tests.support.site import Site

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def no_database_web(worker_env):
    """A web process whose PostgreSQL cannot be reached (nothing listens on
    port 1), with the same SECRET_KEY and Redis as the real one: whatever it
    serves, it served without the database."""
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env={**worker_env, "DATABASE_URL": "postgres://x@127.0.0.1:1/x",
                            "DB_POOL_TIMEOUT": "1"},
                       log_path=OUTPUT / "web-server-no-database.log").start()
    yield server
    server.stop()


def _as(site: Site, server: WebServer, *, cookies: bool = True) -> httpx.Client:
    """The same browser (its Host header and, unless told, its cookies),
    talking to another web process."""
    return httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30,
                        headers=dict(site.http.headers),
                        cookies=site.http.cookies if cookies else None)


def _read(http: httpx.Client, url: str, headers: dict | None = None) -> tuple[int, str]:
    """Status and the whole body (a stream ends after the answer's end event)."""
    with http.stream("GET", url, headers={"Accept": "text/event-stream", **(headers or {})}) \
            as response:
        return response.status_code, "".join(response.iter_text())


def _with_token(url: str, token: str) -> str:
    return url.split("?")[0] + f"?t={token}"


def _expired(claims: dict) -> str:
    """A genuine token (right key, right claims) signed an hour too early."""

    class Earlier(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - sse.TOKEN_SECONDS - 3600)

    return Earlier(salt=sse.TOKEN_SALT).sign_object(claims)


def test_a_stream_token_serves_the_answer_without_the_database(
        make_client, web_server, no_database_web, celery_worker, model):
    """Given an answer sent on the real site, when the same browser reads its
    stream_url from a web process that cannot reach PostgreSQL, then it gets
    the whole answer (the fast path used no database), and a reconnect with
    Last-Event-ID resumes after that id."""
    client = make_client("fast")
    site = Site(web_server.url(client.domain.domain)).login("admin@example.com", PASSWORD)
    sent = site.ask("[[tokens: 40]] [[token-delay: 0.02]] stream me")
    url = sent["answer"]["stream_url"]
    assert "?t=" in url

    with _as(site, no_database_web) as http:
        status, body = _read(http, url)
        assert status == 200, body
        assert "event: done\n" in body
        assert body.count("event: delta\n") >= 1
        with schema_context(client.client.schema_name):
            answer = Message.objects.get(pk=sent["answer"]["id"])
        assert answer.status == "done" and answer.content

        # Resume after the first delta: the same events as before, minus those.
        ids = [line[4:] for line in body.split("\n") if line.startswith("id: ")]
        status, resumed = _read(http, url, headers={"Last-Event-ID": ids[0]})
        assert status == 200
        resumed_ids = [line[4:] for line in resumed.split("\n") if line.startswith("id: ")]
        assert resumed_ids == ids[1:]

    # A page loaded while an answer is written gives it a token too.
    slow = site.ask("[[tokens: 60]] [[token-delay: 0.05]] still writing",
                    sent["conversation_id"])
    page = site.http.get(f"/c/{sent['conversation_id']}/").text
    found = re.search(rf'data-answer-id="{slow["answer"]["id"]}"[^>]*'
                      r'data-stream-url="([^"]+)"', page)
    assert found and "?t=" in found.group(1), page
    with _as(site, no_database_web) as http:
        status, slow_body = _read(http, html.unescape(found.group(1)))
        assert status == 200 and "event: done\n" in slow_body

    # The Django view (the URL without its token, the session) serves the
    # same events with the same ids.
    plain = site.http.get(url.split("?")[0], headers={"Accept": "text/event-stream"})
    assert plain.status_code == 200 and plain.text == body


def test_a_token_that_does_not_fit_gets_nothing_from_the_fast_path(
        make_client, web_server, no_database_web, celery_worker, model):
    """Given a genuine stream URL, when the token is forged, expired, for
    another answer, sent without the session cookie it was issued to or with another one, or on
    another client's site, then the fast path serves nothing: the request
    goes to the Django view, which (with no database) answers 503 and on the
    real site refuses it (the login page without a session, 404 for another client's
    member), and the session alone still works there (the view's own door)."""
    client = make_client("owner")
    other = make_client("other")
    site = Site(web_server.url(client.domain.domain)).login("admin@example.com", PASSWORD)
    sent = site.ask("[[tokens: 5]] a secret answer")
    url = sent["answer"]["stream_url"]
    token = url.split("?t=")[1]
    claims = signing.TimestampSigner(salt=sse.TOKEN_SALT).unsign_object(token)
    answer_id = sent["answer"]["id"]

    forged = signing.TimestampSigner(key="not-the-secret-key", salt=sse.TOKEN_SALT) \
        .sign_object(claims)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_answer = signing.TimestampSigner(salt=sse.TOKEN_SALT).sign_object(
        {**claims, "a": answer_id + 1})
    refused_tokens = {"forged": forged, "tampered": tampered, "expired": _expired(claims),
                      "another answer": other_answer}

    with _as(site, no_database_web) as http:
        assert _read(http, url)[0] == 200  # the genuine one, for contrast
        for name, bad in refused_tokens.items():
            status, body = _read(http, _with_token(url, bad))
            assert status == 503, (name, status, body)
            assert "event:" not in body, name
    with _as(site, no_database_web, cookies=False) as http:  # a leaked URL, no session
        status, body = _read(http, url)
        assert status == 503 and "event:" not in body
    # Another session (the same person signed in elsewhere: a session key the
    # token was not issued to) on the same site.
    second = Site(web_server.url(client.domain.domain)).login("admin@example.com", PASSWORD)
    assert second.http.cookies["sessionid"] != site.http.cookies["sessionid"]
    with _as(second, no_database_web) as http:
        status, body = _read(http, url)
        assert status == 503 and "event:" not in body
    other_host = Site(web_server.url(other.domain.domain)).http.headers["Host"]
    with _as(site, no_database_web) as http:  # the right session, another client's site
        status, body = _read(http, url, headers={"Host": other_host})
        assert status == 503 and "event:" not in body

    # On the real site the same requests meet the view's session checks.
    with _as(site, web_server, cookies=False) as http:
        status, body = _read(http, url)
        assert status in (302, 401) and "event:" not in body  # to the login page
    other_site = Site(web_server.url(other.domain.domain)).login("admin@example.com", PASSWORD)
    status = other_site.http.get(url, headers={"Accept": "text/event-stream"}).status_code
    assert status == 404
    # The other client's site with the owner's cookies sent along, too.
    with httpx.Client(base_url=f"http://127.0.0.1:{web_server.port}", timeout=30,
                      headers=dict(other_site.http.headers),
                      cookies=site.http.cookies) as http:
        status, body = _read(http, url)
        assert status in (302, 401, 404) and "event:" not in body
    for bad in refused_tokens.values():  # the owner's session still opens its own answer
        status, body = _read(site.http, _with_token(url, bad))
        assert status == 200 and "event: done\n" in body


def test_one_reader_serves_many_streams_each_from_its_own_place():
    """Given three readers on the fast path's shared reader (one XREAD for
    all): two of the same answer at different places and one of another
    answer, when events are appended, then each reader gets exactly the
    events after its own place, in order, ending at the end event; and a
    reader of a quiet answer gets nothing (and no error) when its wait ends."""
    from chat import stream_app, streams

    schema = f"hub_{uuid.uuid4().hex[:8]}"
    try:
        first_id = streams.append(schema, 1, "delta", {"text": "a"})
        streams.append(schema, 1, "delta", {"text": "b"})

        async def scenario():
            hub = stream_app._hub()
            behind = hub.subscribe(streams.key(schema, 1), "0-0")
            ahead = hub.subscribe(streams.key(schema, 1), first_id)
            other = hub.subscribe(streams.key(schema, 2), "0-0")
            quiet = hub.subscribe(streams.key(schema, 3), "0-0")
            got: dict[str, list[str]] = {"behind": [], "ahead": [], "other": []}

            async def drain(name, subscription):
                while True:
                    batch = await subscription.next(10)
                    got[name] += [e.data.get("text", e.event) for e in batch]
                    if batch and batch[-1].event in streams.END_EVENTS:
                        subscription.close()
                        return

            readers = [asyncio.create_task(drain(name, sub)) for name, sub in
                       (("behind", behind), ("ahead", ahead), ("other", other))]
            await asyncio.sleep(0.3)
            for text in ("c", "d"):
                await asyncio.to_thread(streams.append, schema, 1, "delta", {"text": text})
                await asyncio.to_thread(streams.append, schema, 2, "delta", {"text": text})
                await asyncio.sleep(0.15)
            await asyncio.to_thread(streams.append, schema, 1, "done", {"html": ""})
            await asyncio.to_thread(streams.append, schema, 2, "cancelled", {"html": ""})
            await asyncio.wait_for(asyncio.gather(*readers), 20)
            assert await quiet.next(0.3) == []
            quiet.close()
            return got, hub.subscriptions

        got, left = asyncio.run(scenario())
        assert got == {"behind": ["a", "b", "c", "d", "done"],
                       "ahead": ["b", "c", "d", "done"],
                       "other": ["c", "d", "cancelled"]}
        assert left == {}
    finally:
        for message_id in (1, 2, 3):
            streams.discard(schema, message_id)


def _cookies_now(site: Site) -> dict[str, str]:
    """The browser's cookies as they are now (a copy an attacker kept)."""
    return {cookie.name: cookie.value for cookie in site.http.cookies.jar}


def _read_as(server: WebServer, site: Site, cookies: dict[str, str], url: str) -> tuple[int, str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30,
                      headers=dict(site.http.headers), cookies=cookies) as http:
        return _read(http, url)


def test_an_ended_session_makes_its_stream_tokens_useless_at_once(
        make_client, web_server, no_database_web, celery_worker, model):
    """Issue 21, finding 3: given a stream URL and the session cookie it was
    issued to, when that session ends — sign-out, deactivation of the member,
    a password change in another browser — then the fast path serves nothing
    with them any more (the view, here without a database, answers 503), while
    it did just before."""
    from tenants.members import services as member_services
    from tenants.members.models import User

    client = make_client("revoke")
    with schema_context(client.client.schema_name):
        for email in ("signout@example.com", "leaver@example.com", "changer@example.com"):
            User.objects.create_user(email, PASSWORD)

    def asked(email: str) -> tuple[Site, dict[str, str], str]:
        site = Site(web_server.url(client.domain.domain)).login(email, PASSWORD)
        url = site.ask("[[tokens: 5]] an answer to keep")["answer"]["stream_url"]
        cookies = _cookies_now(site)
        status, body = _read_as(no_database_web, site, cookies, url)
        assert status == 200 and "event: done\n" in body  # served by the fast path
        return site, cookies, url

    # Sign-out.
    site, cookies, url = asked("signout@example.com")
    assert site.post("/accounts/logout/").status_code == 302
    status, body = _read_as(no_database_web, site, cookies, url)
    assert status == 503 and "event:" not in body, "sign-out"

    # Deactivated by a tenant admin.
    site, cookies, url = asked("leaver@example.com")
    with schema_context(client.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        member_services.set_member_active(
            user=User.objects.get(email="leaver@example.com"), active=False, actor=admin)
    status, body = _read_as(no_database_web, site, cookies, url)
    assert status == 503 and "event:" not in body, "deactivation"

    # The password changed in another browser: this browser's session ends.
    site, cookies, url = asked("changer@example.com")
    other = Site(web_server.url(client.domain.domain)).login("changer@example.com", PASSWORD)
    changed = other.http.post("/accounts/password/", data={
        "old_password": PASSWORD, "new_password1": "a-new-Passw0rd-for-21",
        "new_password2": "a-new-Passw0rd-for-21", "csrfmiddlewaretoken": other.csrf()})
    assert changed.status_code == 302, changed.text[:500]
    status, body = _read_as(no_database_web, site, cookies, url)
    assert status == 503 and "event:" not in body, "password change"
    assert site.http.get("/").status_code == 302  # signed out there too
    assert other.http.get("/").status_code == 200  # the browser that changed it stays in


def test_an_open_stream_stops_soon_after_its_session_ends(
        make_client, web_server, celery_worker, model):
    """Given a long answer streaming through the fast path, when the person
    signs out in another tab, then the stream stops within the stale-check
    interval instead of running to the answer's end."""
    import threading

    client = make_client("revokeopen")
    site = Site(web_server.url(client.domain.domain)).login("admin@example.com", PASSWORD)
    sent = site.ask("[[tokens: 400]] [[token-delay: 0.05]] a long answer")["answer"]
    url = sent["stream_url"]
    cookies = _cookies_now(site)
    result: dict[str, object] = {}

    def reader() -> None:
        result["status"], result["body"] = _read_as(web_server, site, cookies, url)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(1.5)
    assert site.post("/accounts/logout/").status_code == 302
    thread.join(60)
    assert result["status"] == 200
    body = str(result["body"])
    assert "event: delta\n" in body  # it was streaming
    assert "event: done\n" not in body, "the stream ran on to the end of the answer"
    # Order, not a stopwatch: the stream was cut while the answer (400 tokens
    # at 50 ms) was still being written.
    with schema_context(client.client.schema_name):
        answer = Message.objects.get(pk=sent["id"])
        assert answer.status not in ("done", "failed", "cancelled"), answer.status
