"""Answers in flight, in Redis (connections from core.redis_client).

Each answer has a Redis Stream of events (delta, reset, done, failed,
cancelled) that the worker appends to and the browser reads through SSE,
resuming after a reconnect from the last event id. Beside it: a stop flag
the browser sets, the outcome kept until the database has it, and redo
claims. The lease a worker renews while it writes, and the fence number its
writes are checked against, are in chat/leases.py.
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


# A writing worker's every entry goes through this script: written only while
# the answer's fence (chat/leases.py: the number its lease was taken with) is
# still the writer's, so a worker that lost the answer to another can never
# write it, not even for a moment after Redis comes back. Each entry carries
# the writer's sequence number: an entry sent again after a lost reply (Redis
# restarted mid-command) is not written twice. A lapsed lease (Redis was
# away longer than it lives) is taken back, as nobody else took it.
# KEYS: events, fence, lease, stop, sent. ARGV: fence, token, lease seconds,
# seq, end (1/0), stream ttl, event, data. Returns 1 written, 0 already
# written, -1 fenced off.
_FENCED_APPEND = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local seq = tonumber(ARGV[4])
local sent = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')
if seq <= sent then return 0 end
redis.call('HSET', KEYS[5], ARGV[1], seq)
redis.call('EXPIRE', KEYS[5], ARGV[6])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', 50000, '*', 'event', ARGV[7], 'data', ARGV[8])
if ARGV[5] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  redis.call('DEL', KEYS[3], KEYS[4])
elseif redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
end
return 1
"""

# While Redis is away a writer keeps its entries and sends them again when it
# is back; past this long it gives up (the answer ends failed, with Retry).
PATIENCE_SECONDS = getattr(settings, "CHAT_REDIS_PATIENCE_SECONDS", 60)


class LeaseLost(Exception):
    """Another worker took this answer over: its writer writes nothing more."""


@dataclass(frozen=True)
class Fence:
    """A writer's claim on an answer (chat.leases.take_lease): the lease token
    and the fence number its writes are checked against."""

    number: int
    token: str
    lease_seconds: int = 15


class DeltaWriter:
    """Appends an answer's entries: its text as `delta` events, the first
    piece at once (it is the time to first token), later pieces together, and
    its other events (`event`). `write` never waits on Redis: the process's
    one flusher thread sends the batches of every answer being written, all
    in one pipeline per tick (`flush_interval()`), so a hundred answers cost
    one round trip per tick, not one per answer.

    With a `fence` every entry is written by the fenced script above, and an
    entry Redis did not confirm (it is restarting) is kept and sent again,
    in order, until it is confirmed or PATIENCE_SECONDS pass."""

    def __init__(self, schema: str, message_id: int, *, interval: float | None = None,
                 fence: Fence | None = None) -> None:
        self.schema, self.message_id = schema, message_id
        # None: the process's cadence, which lengthens with the answers in flight.
        self.interval = interval
        # With a fence, the flusher also reads the Stop flag and the answer's
        # fence every CHECK_SECONDS, in the same round trip: `state` is what
        # chat.leases.writer_check() would say, as of then.
        self.fence = fence
        self.state: str | None = None
        self.error: Exception | None = None  # Redis away longer than PATIENCE_SECONDS
        self.outage_since: float | None = None
        self._checked_at = time.monotonic()
        self._pending: list[str] = []
        # Entries taken but not yet confirmed by Redis: (seq, event, data json, end).
        self._unsent: list[tuple[int, str, str, bool]] = []
        self._seq = 0
        self._flushed_at: float | None = None
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one sender at a time: entries stay in order

    def write(self, text: str) -> None:
        self._raise_error()
        if self.state == "lost":
            return
        with self._lock:
            if self._flushed_at is None:  # the first piece: now, from this thread
                self._flushed_at = time.monotonic()
                self._queue("delta", {"text": text})
                first = True
            else:
                self._pending.append(text)
                first = False
        if first:
            _flusher.watch(self)
            self._send_now(wait=False)

    def event(self, name: str, data: dict | None = None) -> None:
        """Write an event after the text so far, and wait until Redis has it
        (through an outage of up to PATIENCE_SECONDS). LeaseLost if another
        worker owns the answer now; StreamUnavailable if Redis stays away."""
        self._raise_error()
        with self._lock:
            self._take()
            self._queue(name, data or {})
        self._send_now(wait=True)

    def flush(self) -> None:
        """Send what waits now (it goes before anything the caller writes next)."""
        with self._lock:
            self._take()
        self._send_now(wait=True)

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
            self._unsent.clear()
        _flusher.forget(self)

    def _raise_error(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _queue(self, name: str, data: dict) -> None:
        """Under self._lock: an entry to send, numbered."""
        self._seq += 1
        self._unsent.append((self._seq, name, json.dumps(data), name in END_EVENTS))

    def _take(self) -> None:
        """Under self._lock: the text waiting becomes one entry to send."""
        if not self._pending:
            return
        self._flushed_at = time.monotonic()
        text, self._pending = "".join(self._pending), []
        self._queue("delta", {"text": text})

    def _due(self, now: float) -> bool:
        return self.interval is None or now - (self._flushed_at or 0.0) >= self.interval

    def _send_now(self, *, wait: bool) -> None:
        """Send the unsent entries from this thread; with `wait`, until Redis
        has them all (retrying through an outage)."""
        pause = 0.1
        while True:
            with self._send_lock:
                with self._lock:
                    entries = list(self._unsent)
                if not entries:
                    return
                pipe = _client().pipeline(transaction=False)
                for entry in entries:
                    self._add(pipe, entry)
                try:
                    results = pipe.execute()
                except Exception as exc:
                    if not redis_client.is_client_error(exc):
                        raise
                    self._failed(exc)
                else:
                    self._sent(entries, results)
            if self.state == "lost":
                if wait:
                    raise LeaseLost(self.message_id)
                return
            if not wait:
                return
            self._raise_error()
            with self._lock:
                if not self._unsent:
                    return
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _add(self, pipe, entry: tuple[int, str, str, bool]) -> None:
        seq, name, data, end = entry
        if self.fence is None:
            pipe.xadd(key(self.schema, self.message_id), {"event": name, "data": data},
                      maxlen=50000, approximate=True)
            return
        pipe.eval(_FENCED_APPEND, 5, *(key(self.schema, self.message_id, part) for part in
                                       ("events", "fence", "lease", "stop", "sent")),
                  self.fence.number, self.fence.token, self.fence.lease_seconds, seq,
                  1 if end else 0, STREAM_TTL_SECONDS if end else STREAM_TTL_SECONDS * 2,
                  name, data)

    def _sent(self, entries: list, results: list) -> None:
        """Redis confirmed `entries` (results: their replies, in order)."""
        self.outage_since = None
        lost = self.fence is not None and any(result == -1 for result in results)
        with self._lock:
            del self._unsent[:len(entries)]
            if lost:
                self.state = "lost"
                self._pending.clear()
                self._unsent.clear()

    def _failed(self, exc: BaseException) -> None:
        """Redis did not confirm: the entries stay, to be sent again."""
        now = time.monotonic()
        if self.outage_since is None:
            self.outage_since = now
            logger.warning("Answer %s in %s: Redis unreachable (%s); keeping its text to "
                           "send when Redis is back", self.message_id, self.schema, exc)
        elif now - self.outage_since > PATIENCE_SECONDS:
            self.error = StreamUnavailable(str(exc) or repr(exc))


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
            # writer, entries sent, checked
            plan: list[tuple[DeltaWriter, list, bool]] = []
            for writer in writers:
                if not writer._send_lock.acquire(blocking=False):
                    continue  # its own thread is sending: next tick
                with writer._lock:
                    if writer.state == "lost":  # another worker writes it now
                        writer._pending.clear()
                        writer._unsent.clear()
                    elif writer._due(now):
                        writer._take()
                    entries = list(writer._unsent)
                check = (writer.fence is not None and writer.state != "lost"
                         and now - writer._checked_at >= CHECK_SECONDS)
                for entry in entries:
                    writer._add(pipe, entry)
                if check:
                    writer._checked_at = now
                    pipe.exists(key(writer.schema, writer.message_id, "stop"))
                    pipe.get(key(writer.schema, writer.message_id, "fence"))
                if entries or check:
                    plan.append((writer, entries, check))
                else:
                    writer._send_lock.release()
            if not plan:
                return
            try:
                try:
                    results = iter(pipe.execute())
                except Exception as exc:
                    if not redis_client.is_client_error(exc):
                        raise
                    for writer, _entries, _checked in plan:
                        writer._failed(exc)
                    return
                for writer, entries, checked in plan:
                    writer._sent(entries, [next(results) for _entry in entries])
                    if checked:
                        stop, fence = next(results), next(results)
                        state = writer_state(stop, fence, writer.fence)
                        if writer.state != "lost":
                            writer.state = state
            finally:
                for writer, _entries, _checked in plan:
                    writer._send_lock.release()


_flusher = _Flusher()


def writer_state(stop: int, fence: str | None, mine: Fence | None) -> str | None:
    """"stop" if the employee pressed Stop; "lost" if the answer's fence is no
    longer the writer's (another worker took it over, see
    chat.leases.writer_check); None: carry on."""
    if mine is not None and fence != str(mine.number):
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
                       for part in ("events", "stop", "lease", "final", "redo1", "redo2",
                                    "fence", "sent")))


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
        except Exception as exc:
            if not redis_client.is_client_error(exc):
                raise
            raise redis_client.unavailable(exc) from exc
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
