"""The answer stream's fast path: a small ASGI app in front of Django.

`GET /answers/<id>/stream/?t=<token>` with a valid stream token (chat.sse)
is served here: the token is checked with no database and no session (a
keyed hash of the session cookie, the host, the answer), then the answer's
Redis stream is relayed as server-sent events, several entries per write.
Everything else — no token, a bad, expired or other site's token, a
malformed Last-Event-ID, Redis down at the start — goes on to Django,
whose view (`chat.views.answer_stream`) authorises by session as before and
answers 401/404/400/503 as it always did.

The database is touched only where the Django view would have touched it
too: when a stream has been quiet for CHAT_STALE_CHECK_SECONDS and no worker
holds the answer's lease and it is not waiting in its client's line (a dead
worker or a lost task), the stored outcome is read in a thread
(chat.sse.stale_state) and the connection given back at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils import translation

from chat import services, slots, sse, streams
from core import redis_client

logger = logging.getLogger(__name__)

PATH = re.compile(r"\A/answers/([0-9]{1,18})/stream/\Z")
# Once text flows, one write to the browser at most this often: the entries
# that arrive meanwhile go out together (fewer reads, writes and wake-ups
# per answer). The first text is never held back.
SEND_SECONDS = getattr(settings, "CHAT_STREAM_SEND_MS", 100) / 1000
HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class AnswerStreamApp:
    """Serves answer streams that carry a valid token; hands everything else
    to `app` (Django)."""

    def __init__(self, app) -> None:
        self.app = app
        self.cookie_name = settings.SESSION_COOKIE_NAME

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            match = PATH.match(scope["path"])
            if match is not None:
                stream = await self._open(scope, int(match.group(1)))
                if stream is not None:
                    return await _serve(stream, receive, send)
        return await self.app(scope, receive, send)

    async def _open(self, scope, answer_id: int) -> _Stream | None:
        """The stream to serve, or None: Django's view decides."""
        query = _query(scope.get("query_string", b""))
        token = query.get("t", "")
        if not token:
            return None
        headers = _headers(scope)
        cookies = parse_cookie(headers.get("cookie", ""))
        claims = sse.verify_token(token, host=headers.get("host", ""), answer_id=answer_id,
                                  session_key=cookies.get(self.cookie_name))
        if claims is None:
            return None
        after = headers.get("last-event-id") or query.get("after") or "0-0"
        if not streams.is_event_id(after):
            return None  # the view's 400
        schema = claims["s"]
        # The first read does not wait: Redis down is the view's 503, not an
        # event stream that fails at once.
        reader = streams.read(schema, answer_id, after=after, wait_first=False,
                              block_ms=sse.STALE_CHECK_MS)
        try:
            first = await anext(reader)
        except streams.StreamUnavailable:
            return None
        return _Stream(schema, answer_id, claims.get("l") or settings.LANGUAGE_CODE, reader,
                       first)


class _Stream:
    __slots__ = ("schema", "answer_id", "language", "reader", "first")

    def __init__(self, schema, answer_id, language, reader, first) -> None:
        self.schema, self.answer_id, self.language = schema, answer_id, language
        self.reader, self.first = reader, first


def _query(raw: bytes) -> dict[str, str]:
    """The first value of each query parameter (urllib's parse_qs, without
    its work when nothing is %-encoded: a token and an event id never are)."""
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return {name: values[0] for name, values in parse_qs(text).items()}
    found: dict[str, str] = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        found.setdefault(name, value)
    return found


def _headers(scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        # Several Cookie headers (HTTP/2) are one list.
        found[key] = f"{found[key]}; {text}" if key == "cookie" and key in found else text
    return found


async def _serve(stream: _Stream, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    writer = asyncio.current_task()
    assert writer is not None

    async def watch() -> None:
        # The browser went away: stop waiting on Redis for it.
        while (await receive())["type"] != "http.disconnect":
            pass
        writer.cancel()

    watcher = asyncio.create_task(watch())
    try:
        await _relay(stream, send)
    except asyncio.CancelledError:
        if not watcher.done() or watcher.cancelled():
            raise  # not the browser's doing: the server is stopping
        writer.uncancel()
        return
    finally:
        watcher.cancel()
        await stream.reader.aclose()
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _relay(stream: _Stream, send) -> None:
    async def write(text: str) -> None:
        await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

    first = stream.first
    head = "retry: 1000\n\n"
    if first:
        await write(head + sse.events(first))
        if first[-1].event in streams.END_EVENTS:
            return
    else:
        await write(head)
    texting = any(item.event == "delta" for item in first)
    sent_at = time.monotonic()
    try:
        async for batch in stream.reader:
            if not batch:
                # Quiet for a while: is anyone still writing this answer?
                state = await _stale_state(stream)
                if state is not None:
                    await write(sse.event(state["status"], state))
                    return
                await write(": keep-alive\n\n")
                continue
            await write(sse.events(batch))
            if batch[-1].event in streams.END_EVENTS:
                return
            if texting or any(item.event == "delta" for item in batch):
                texting = True
                # Let the next entries gather: one read and one write for them all.
                wait = SEND_SECONDS - (time.monotonic() - sent_at)
                if wait > 0:
                    await asyncio.sleep(wait)
            sent_at = time.monotonic()
    except streams.StreamUnavailable as exc:
        logger.warning("Answer stream %s unavailable: %s", stream.answer_id, exc)
        with translation.override(stream.language):
            message = services.unavailable_message()
        await write(sse.event("failed", {"error": message, "html": ""}))


async def _stale_state(stream: _Stream) -> dict | None:
    """chat.sse.stale_state, asking Redis on this event loop first: only an
    answer no worker holds and not in its client's line costs a database
    trip (in a thread)."""
    pipe = redis_client.async_client().pipeline(transaction=False)
    pipe.exists(streams.key(stream.schema, stream.answer_id, "lease"))
    pipe.lpos(slots.keys(stream.schema)[1], stream.answer_id)
    try:
        lease, place = await pipe.execute()
    except redis_client.ERRORS as exc:
        raise streams.StreamUnavailable(str(exc)) from exc
    if lease or place is not None:
        return None
    return await sync_to_async(_stored_state, thread_sensitive=False)(stream)


def _stored_state(stream: _Stream) -> dict | None:
    with translation.override(stream.language):
        return sse.stale_state(stream.schema, stream.answer_id, alive=False)
