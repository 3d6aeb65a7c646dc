"""The answer stream's fast path: a small ASGI app in front of Django.

`GET /answers/<id>/stream/?t=<token>` with a valid stream token (chat.sse)
is served here: the token is checked with no database and no session (a
keyed hash of the session cookie, the host, the answer; and no revocation
mark in Redis for that session, core.stream_revocation — looked for again
every CHAT_STALE_CHECK_SECONDS while the stream runs), then the answer's
Redis stream is relayed as server-sent events: until its first text with a
read of its own (the time to first token waits for nobody), then through
the process's one reader of every stream (`_Hub`: one XREAD for all of them
at most every CHAT_STREAM_SEND_MS), whatever arrived meanwhile in one write.
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
import json
import logging
import re
import time
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils import translation

from chat import slots, sse, streams
from core import ids, redis_client, stream_revocation

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
                answer_id = ids.parse_id(match.group(1), minimum=1)
                stream = await self._open(scope, answer_id) if answer_id else None
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
        try:
            # The session it was issued to has ended (sign-out, deactivation,
            # password change): the view's session checks answer.
            if await stream_revocation.is_revoked_async(claims["k"]):
                return None
        except redis_client.Unavailable:
            return None  # the view's 503
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
                       first, after, claims["k"])


class _Stream:
    __slots__ = ("schema", "answer_id", "language", "reader", "first", "after", "binding",
                 "checked")

    def __init__(self, schema, answer_id, language, reader, first, after, binding) -> None:
        self.schema, self.answer_id, self.language = schema, answer_id, language
        self.reader, self.first, self.after = reader, first, after
        self.binding = binding  # the session's, for its revocation mark
        self.checked = time.monotonic()  # when the mark was last looked for


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
    await write(head + sse.events(first))
    if first and first[-1].event in streams.END_EVENTS:
        return
    last = first[-1].id if first else stream.after
    try:
        if not any(item.event == "delta" for item in first):
            # Until the first text, a read of its own: the time to first
            # token waits for nobody.
            async for batch in stream.reader:
                if not batch:
                    if await _quiet(stream, write):
                        return
                    continue
                if await _session_ended(stream):
                    return
                await write(sse.events(batch))
                last = batch[-1].id
                if batch[-1].event in streams.END_EVENTS:
                    return
                if any(item.event == "delta" for item in batch):
                    break
        # Then this process's one reader of all streams (_Hub): what arrived
        # for this answer since the last round, in one write.
        subscription = _hub().subscribe(streams.key(stream.schema, stream.answer_id), last)
        try:
            while True:
                batch = await subscription.next(sse.STALE_CHECK_MS / 1000)
                if not batch:
                    if await _quiet(stream, write):
                        return
                    continue
                if await _session_ended(stream):
                    return
                await write(sse.events(batch))
                if batch[-1].event in streams.END_EVENTS:
                    return
        finally:
            subscription.close()
    except streams.StreamUnavailable as exc:
        # Redis went away mid-answer (it restarts): the answer goes on (its
        # worker keeps the text), so say so and end this response; the
        # browser reconnects with Last-Event-ID and resumes.
        logger.warning("Answer stream %s unavailable: %s", stream.answer_id, exc)
        with translation.override(stream.language):
            await write(sse.reconnect_event())


async def _session_ended(stream: _Stream) -> bool:
    """While text flows, whether the stream's session has ended, looked up at
    most every CHAT_STALE_CHECK_SECONDS (one EXISTS per stream then): the
    stream stops, and a reconnect meets the view's session checks."""
    now = time.monotonic()
    if now - stream.checked < sse.STALE_CHECK_MS / 1000:
        return False
    stream.checked = now
    try:
        return await stream_revocation.is_revoked_async(stream.binding)
    except redis_client.Unavailable as exc:
        raise streams.StreamUnavailable(str(exc)) from exc


async def _quiet(stream: _Stream, write) -> bool:
    """Quiet for a while: is anyone still writing this answer? True if it
    ended (its stored outcome was written) or its session ended (nothing
    more is written)."""
    state = await _stale_state(stream)
    if state is _SESSION_ENDED:
        return True
    if state is not None:
        await write(sse.event(state["status"], state))
        return True
    await write(": keep-alive\n\n")
    return False


def _id_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class _Subscription:
    """One stream's reader on the hub: the events after `last`."""

    def __init__(self, hub: _Hub, key: str, last: str) -> None:
        self.hub, self.key = hub, key
        self.last, self.last_key = last, _id_key(last)
        self.pending: list[streams.StreamEvent] = []
        self.error: Exception | None = None
        self.wake = asyncio.Event()

    def deliver(self, events: list[streams.StreamEvent]) -> None:
        start = 0
        while start < len(events) and _id_key(events[start].id) <= self.last_key:
            start += 1  # another reader of the same answer was further behind
        for item in events[start:]:
            self.pending.append(item)
            if item.event in streams.END_EVENTS:
                break
        if self.pending:
            self.last = self.pending[-1].id
            self.last_key = _id_key(self.last)
            self.wake.set()

    def fail(self, error: Exception) -> None:
        self.error = error
        self.wake.set()

    async def next(self, timeout: float) -> list[streams.StreamEvent]:
        """The events since the last call; [] after `timeout` seconds without."""
        if not self.pending and self.error is None:
            try:
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
            except TimeoutError:
                return []
        self.wake.clear()
        if self.error is not None:
            raise streams.StreamUnavailable(str(self.error))
        batch, self.pending = self.pending, []
        return batch

    def close(self) -> None:
        self.hub.unsubscribe(self)


class _Hub:
    """Every answer stream of this process past its first text, read with one
    XREAD (all their keys) at most every CHAT_STREAM_SEND_MS: one Redis round
    trip and one connection per round for a thousand streams, instead of one
    each."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, set[_Subscription]] = {}
        self.task: asyncio.Task | None = None

    def subscribe(self, key: str, last: str) -> _Subscription:
        subscription = _Subscription(self, key, last)
        self.subscriptions.setdefault(key, set()).add(subscription)
        if self.task is None:
            self.task = asyncio.create_task(self._run())
        return subscription

    def unsubscribe(self, subscription: _Subscription) -> None:
        found = self.subscriptions.get(subscription.key)
        if found is not None:
            found.discard(subscription)
            if not found:
                del self.subscriptions[subscription.key]

    async def _run(self) -> None:
        client = redis_client.async_client()
        block_ms = max(1, int(SEND_SECONDS * 1000))
        try:
            while self.subscriptions:
                started = time.monotonic()
                after = {key: min((s.last for s in found), key=_id_key)
                         for key, found in self.subscriptions.items()}
                reply = await client.xread(after, block=block_ms, count=500)
                for key, entries in reply or []:
                    found = self.subscriptions.get(key)
                    if not found:
                        continue
                    events = [streams.StreamEvent(entry_id, fields["event"],
                                                  json.loads(fields["data"]))
                              for entry_id, fields in entries]
                    for subscription in list(found):
                        subscription.deliver(events)
                wait = SEND_SECONDS - (time.monotonic() - started)
                if wait > 0:
                    await asyncio.sleep(wait)
        except Exception as exc:  # Redis down (or a bug): its readers say so, not wait
            if not redis_client.is_client_error(exc):
                logger.exception("Answer stream reader failed")
            for found in self.subscriptions.values():
                for subscription in found:
                    subscription.fail(exc)
            self.subscriptions.clear()
        finally:
            self.task = None


_hubs: dict[int, _Hub] = {}


def _hub() -> _Hub:
    """The hub of the running event loop (its Redis connections are the loop's)."""
    loop_id = id(asyncio.get_running_loop())
    found = _hubs.get(loop_id)
    if found is None:
        found = _hubs[loop_id] = _Hub()
    return found


_SESSION_ENDED: dict = {}


async def _stale_state(stream: _Stream) -> dict | None:
    """chat.sse.stale_state, asking Redis on this event loop first: only an
    answer no worker holds and not in its client's line costs a database
    trip (in a thread). `_SESSION_ENDED` when the stream's session ended."""
    pipe = redis_client.async_client().pipeline(transaction=False)
    pipe.exists(streams.key(stream.schema, stream.answer_id, "lease"))
    pipe.lpos(slots.keys(stream.schema)[1], stream.answer_id)
    pipe.exists(stream_revocation.mark_key(stream.binding))
    try:
        lease, place, ended = await pipe.execute()
    except Exception as exc:
        if not redis_client.is_client_error(exc):
            raise
        raise redis_client.unavailable(exc) from exc
    stream.checked = time.monotonic()
    if ended:
        return _SESSION_ENDED
    if lease or place is not None:
        return None
    return await sync_to_async(_stored_state, thread_sensitive=False)(stream)


def _stored_state(stream: _Stream) -> dict | None:
    with translation.override(stream.language):
        return sse.stale_state(stream.schema, stream.answer_id, alive=False)
