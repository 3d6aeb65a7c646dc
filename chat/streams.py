"""Answers in flight, in Redis (connections from core.redis_client).

Each answer has a Redis Stream of events (delta, reset, done, failed,
cancelled) that the worker appends to and the browser reads through SSE,
resuming after a reconnect from the last event id. Beside it: a stop flag
the browser sets, the outcome kept until the database has it, and redo
claims. The lease a worker renews while it writes is in chat/leases.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.conf import settings

from core import ids, redis_client

logger = logging.getLogger(__name__)

STREAM_TTL_SECONDS = 3600  # a finished stream lingers for late readers, then goes
# Text after the first piece goes out in batches at most this often: one Redis
# entry (and one SSE event) per batch instead of per token.
FLUSH_SECONDS = getattr(settings, "CHAT_STREAM_FLUSH_MS", 40) / 1000
# ... and the longer the more answers the process writes (flush_interval).
FLUSH_MAX_SECONDS = max(FLUSH_SECONDS, getattr(settings, "CHAT_STREAM_FLUSH_MAX_MS", 150) / 1000)
FLUSH_PER_ANSWER_SECONDS = 0.001
READ_BLOCK_MS = redis_client.MAX_BLOCK_SECONDS * 1000
# How often a writing worker learns of Stop (or of losing its lease): not every
# batch, hundreds of streams share Redis.
CHECK_SECONDS = 0.25
END_EVENTS = frozenset({"done", "failed", "cancelled"})

# Redis down: every function here raises this and nothing else.
StreamUnavailable = redis_client.Unavailable
_unavailable_on_redis_error = redis_client.unavailable_on_error
_client = redis_client.client


def key(schema: str, message_id: int, part: str = "events") -> str:
    return f"answer:{schema}:{message_id}:{part}"


@_unavailable_on_redis_error
def append(schema: str, message_id: int, event: str, data: dict | None = None) -> str:
    events = key(schema, message_id)
    fields = {"event": event, "data": json.dumps(data or {})}
    if event == "delta":  # the hot path: one command per batch of tokens
        return _client().xadd(events, fields, maxlen=50000, approximate=True)
    pipe = _client().pipeline(transaction=False)
    pipe.xadd(events, fields, maxlen=50000, approximate=True)
    if event in END_EVENTS:
        pipe.expire(events, STREAM_TTL_SECONDS)
        pipe.delete(key(schema, message_id, "stop"), key(schema, message_id, "lease"))
    else:
        # Set when the answer starts (and on a reset): a stream whose worker
        # died still expires.
        pipe.expire(events, STREAM_TTL_SECONDS * 2)
    return pipe.execute()[0]


class DeltaWriter:
    """Appends an answer's text as `delta` events: the first piece at once (it
    is the time to first token), later pieces together. `write` never waits on
    Redis: the process's one flusher thread sends the batches of every answer
    being written, all in one pipeline per tick (`flush_interval()`), so a
    hundred answers cost one round trip per tick, not one per answer."""

    def __init__(self, schema: str, message_id: int, *, interval: float | None = None,
                 lease_token: str | None = None) -> None:
        self.schema, self.message_id = schema, message_id
        # None: the process's cadence, which lengthens with the answers in flight.
        self.interval = interval
        # With the writer's lease token, the flusher also reads the Stop flag and
        # who holds the lease every CHECK_SECONDS, in the same round trip:
        # `state` is what chat.leases.writer_check() would say, as of then.
        self.lease_token = lease_token
        self.state: str | None = None
        self.error: Exception | None = None  # the flusher's last Redis failure
        self._checked_at = time.monotonic()
        self._pending: list[str] = []
        self._flushed_at: float | None = None
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        with self._lock:
            if self._flushed_at is None:  # the first piece: now, from this thread
                self._flushed_at = time.monotonic()
                append(self.schema, self.message_id, "delta", {"text": text})
                _flusher.watch(self)
            else:
                self._pending.append(text)

    def flush(self) -> None:
        """Send what waits now (it goes before anything the caller writes next)."""
        with _flusher.sending:  # after any batch of ours the flusher is sending
            with self._lock:
                text = self._take()
            if text:
                append(self.schema, self.message_id, "delta", {"text": text})
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def close(self) -> None:
        """The answer's text is complete: send the rest, stop being watched."""
        try:
            self.flush()
        finally:
            _flusher.forget(self)

    def drop(self) -> None:
        """Forget what waits (this writer no longer owns the answer)."""
        with self._lock:
            self._pending.clear()
        _flusher.forget(self)

    def _take(self) -> str:
        """Under self._lock: the text waiting, as one piece ("" if none)."""
        if not self._pending:
            return ""
        self._flushed_at = time.monotonic()
        text, self._pending = "".join(self._pending), []
        return text

    def _due(self, now: float) -> bool:
        return self.interval is None or now - (self._flushed_at or 0.0) >= self.interval


def flush_interval(answers: int) -> float:
    """Seconds between batches with this many answers being written by the
    process: CHAT_STREAM_FLUSH_MS when few are, then 1 ms more per answer up
    to CHAT_STREAM_FLUSH_MAX_MS, so a busy worker sends fewer, larger
    batches (and the browsers get fewer, larger events)."""
    return min(FLUSH_MAX_SECONDS, max(FLUSH_SECONDS, answers * FLUSH_PER_ANSWER_SECONDS))


class _Flusher:
    """One thread per process sends the waiting text of every DeltaWriter,
    and their Stop/lease checks, in one pipeline per tick."""

    def __init__(self) -> None:
        self._writers: set[DeltaWriter] = set()
        self._lock = threading.Lock()
        # Held while a batch is on its way: a writer's own flush() waits for it,
        # so an answer's text never arrives out of order.
        self.sending = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, writer: DeltaWriter) -> None:
        with self._lock:
            self._writers.add(writer)
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="delta-flusher",
                                                daemon=True)
                self._thread.start()

    def forget(self, writer: DeltaWriter) -> None:
        with self._lock:
            self._writers.discard(writer)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                count = len(self._writers)
            time.sleep(flush_interval(count))
            try:
                self.tick()
            except Exception:  # never let the thread die: the writers report errors
                logger.exception("The delta flusher failed a tick")
            with self._lock:  # watch() sets the event under the same lock
                if not self._writers:
                    self._wake.clear()

    def tick(self) -> None:
        with self._lock:
            writers = list(self._writers)
        if not writers:
            return
        with self.sending:
            now = time.monotonic()
            pipe = _client().pipeline(transaction=False)
            plan: list[tuple[DeltaWriter, bool, bool]] = []  # writer, wrote, checked
            for writer in writers:
                with writer._lock:
                    if writer.state == "lost":  # another worker writes it now
                        writer._pending.clear()
                        continue
                    text = writer._take() if writer._due(now) else ""
                check = (writer.lease_token is not None
                         and now - writer._checked_at >= CHECK_SECONDS)
                if text:
                    pipe.xadd(key(writer.schema, writer.message_id),
                              {"event": "delta", "data": json.dumps({"text": text})},
                              maxlen=50000, approximate=True)
                if check:
                    writer._checked_at = now
                    pipe.exists(key(writer.schema, writer.message_id, "stop"))
                    pipe.get(key(writer.schema, writer.message_id, "lease"))
                if text or check:
                    plan.append((writer, bool(text), check))
            if not plan:
                return
            try:
                results = iter(pipe.execute())
            except redis_client.ERRORS as exc:
                for writer, _wrote, _checked in plan:
                    writer.error = StreamUnavailable(str(exc))
                return
        for writer, wrote, checked in plan:
            if wrote:
                next(results)
            if checked:
                stop, holder = next(results), next(results)
                state = writer_state(stop, holder, writer.lease_token or "")
                if writer.state != "lost":
                    writer.state = state


_flusher = _Flusher()


def writer_state(stop: int, holder: str | None, token: str) -> str | None:
    """"stop" if the employee pressed Stop; "lost" if another worker now holds
    the answer's lease (see chat.leases.writer_check); None: carry on."""
    if holder is not None and holder != token:
        return "lost"
    return "stop" if stop else None


@_unavailable_on_redis_error
def request_stop(schema: str, message_id: int) -> None:
    _client().set(key(schema, message_id, "stop"), "1", ex=STREAM_TTL_SECONDS)


@_unavailable_on_redis_error
def stop_requested(schema: str, message_id: int) -> bool:
    return bool(_client().exists(key(schema, message_id, "stop")))


@_unavailable_on_redis_error
def discard(schema: str, message_id: int) -> None:
    _client().delete(*(key(schema, message_id, part)
                       for part in ("events", "stop", "lease", "final", "redo1", "redo2")))


# A finished answer's outcome waits here until the database has it (the
# worker's save may fail while PostgreSQL is down): whoever finds it later —
# the worker retrying, the abandoned-answer sweep, a redelivered task — saves
# it instead of failing or redoing the answer.
FINAL_KEEP_SECONDS = getattr(settings, "CHAT_FINAL_KEEP_SECONDS", 7 * 86400)


@_unavailable_on_redis_error
def keep_final(schema: str, message_id: int, fields: dict) -> None:
    _client().set(key(schema, message_id, "final"), json.dumps(fields), ex=FINAL_KEEP_SECONDS)


@_unavailable_on_redis_error
def get_final(schema: str, message_id: int) -> dict | None:
    raw = _client().get(key(schema, message_id, "final"))
    return json.loads(raw) if raw else None


@_unavailable_on_redis_error
def drop_final(schema: str, message_id: int) -> None:
    _client().delete(key(schema, message_id, "final"))


@_unavailable_on_redis_error
def claim_redo(schema: str, message_id: int, attempt: int, *, seconds: int) -> bool:
    """True once per attempt of an answer: the caller re-enqueues it (several
    browsers and the sweep may notice the same dead worker at once)."""
    return bool(_client().set(key(schema, message_id, f"redo{attempt}"), "1", nx=True,
                              ex=seconds))


@_unavailable_on_redis_error
def redo_requested(schema: str, message_id: int, attempt: int) -> bool:
    """A redo after this attempt was requested (within the key's lifetime)."""
    return bool(_client().exists(key(schema, message_id, f"redo{attempt}")))


@dataclass(frozen=True)
class StreamEvent:
    id: str
    event: str
    data: dict


def is_event_id(value: str) -> bool:
    """True for a Redis stream id such as `1700000000000-0` (what Last-Event-ID
    carries back), each half within Redis's 64-bit range; anything else would
    be a Redis error, not an outage."""
    return ids.parse_event_id(value) is not None


async def read(
    schema: str, message_id: int, *, after: str = "0-0", block_ms: int = READ_BLOCK_MS,
    wait_first: bool = True,
) -> AsyncIterator[list[StreamEvent]]:
    """Yield the events after `after`, a list per read (ending with the end
    event, if any); an empty list when nothing came for `block_ms` (the caller
    sends a keep-alive and checks the answer is still alive). With
    `wait_first=False` the first read returns at once, so a caller learns
    whether Redis answers before it commits to a response."""
    events_key = key(schema, message_id)
    client = redis_client.async_client()
    last = after or "0-0"
    block: int | None = block_ms if wait_first else None
    while True:
        try:
            batches = await client.xread({events_key: last}, block=block, count=500)
        except redis_client.ERRORS as exc:
            raise StreamUnavailable(str(exc)) from exc
        block = block_ms
        events: list[StreamEvent] = []
        for _stream_name, entries in batches or []:
            for entry_id, fields in entries:
                last = entry_id
                events.append(StreamEvent(entry_id, fields["event"], json.loads(fields["data"])))
                if events[-1].event in END_EVENTS:
                    yield events
                    return
        yield events
