"""The one module that speaks to Redis for answers in flight.

Each answer has a Redis Stream of events (delta, reset, done, failed,
cancelled) that the worker appends to and the browser reads through SSE,
resuming after a reconnect from the last event id. Beside it: a stop flag
the browser sets, and a lease the worker renews while it works so that a
dead worker can be told from a slow one.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings

STREAM_TTL_SECONDS = 3600  # a finished stream lingers for late readers, then goes
LEASE_SECONDS = getattr(settings, "CHAT_LEASE_SECONDS", 15)
# Text after the first piece goes out in batches at most this often: one Redis
# entry (and one SSE event) per batch instead of per token.
FLUSH_SECONDS = getattr(settings, "CHAT_STREAM_FLUSH_MS", 40) / 1000
READ_BLOCK_MS = 15000
# How often a writing worker learns of Stop (or of losing its lease): not every
# batch, hundreds of streams share Redis.
CHECK_SECONDS = 0.25
END_EVENTS = frozenset({"done", "failed", "cancelled"})

_sync_client: redis.Redis | None = None
_async_clients: dict[int, aioredis.Redis] = {}


class StreamUnavailable(Exception):
    """Redis cannot be reached (or failed a command): every function here
    raises this and nothing else for a Redis failure, so callers have one
    thing to catch and turn into the "temporarily unavailable" message."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _unavailable_on_redis_error(function: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            raise StreamUnavailable(str(exc)) from exc

    return wrapper


def _client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5,
            max_connections=500, decode_responses=True,
        )
    return _sync_client


def _async_client() -> aioredis.Redis:
    # One pool per event loop: redis.asyncio connections are bound to their loop.
    import asyncio

    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        client = aioredis.Redis.from_url(
            # Reads block up to READ_BLOCK_MS; the socket must wait longer than that.
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=READ_BLOCK_MS / 1000 + 10,
            decode_responses=True, max_connections=2000,
        )
        _async_clients[loop_id] = client
    return client


def _key(schema: str, message_id: int, part: str = "events") -> str:
    return f"answer:{schema}:{message_id}:{part}"


@_unavailable_on_redis_error
def append(schema: str, message_id: int, event: str, data: dict | None = None) -> str:
    key = _key(schema, message_id)
    fields = {"event": event, "data": json.dumps(data or {})}
    if event == "delta":  # the hot path: one command per batch of tokens
        return _client().xadd(key, fields, maxlen=50000, approximate=True)
    pipe = _client().pipeline(transaction=False)
    pipe.xadd(key, fields, maxlen=50000, approximate=True)
    if event in END_EVENTS:
        pipe.expire(key, STREAM_TTL_SECONDS)
        pipe.delete(_key(schema, message_id, "stop"), _key(schema, message_id, "lease"))
    else:
        # Set when the answer starts (and on a reset): a stream whose worker
        # died still expires.
        pipe.expire(key, STREAM_TTL_SECONDS * 2)
    return pipe.execute()[0]


class DeltaWriter:
    """Appends an answer's text as `delta` events: the first piece at once (it
    is the time to first token), later pieces together, at most every
    FLUSH_SECONDS. A background thread sends what waits longer than that, so a
    slow model never holds back text already received."""

    def __init__(self, schema: str, message_id: int, *, interval: float | None = None,
                 lease_token: str | None = None) -> None:
        self.schema, self.message_id = schema, message_id
        self.interval = FLUSH_SECONDS if interval is None else interval
        # With the writer's lease token, each batch also reads the Stop flag
        # and who holds the lease, in the same round trip: `state` is what
        # writer_check() would say, as of the last batch.
        self.lease_token = lease_token
        self.state: str | None = None
        self._checked_at = float("-inf")
        self._pending: list[str] = []
        self._flushed_at: float | None = None
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._pending.append(text)
            due = self._flushed_at is None or (
                time.monotonic() - self._flushed_at >= self.interval)
            if due:
                self._flush_locked()
            else:
                _flusher.watch(self)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def drop(self) -> None:
        """Forget what waits (this writer no longer owns the answer)."""
        with self._lock:
            self._pending.clear()
            _flusher.forget(self)

    def flush_if_stale(self) -> None:
        """Flush if text has waited a whole interval; stop being watched once
        nothing waits (under this writer's lock, so no write slips between)."""
        with self._lock:
            if self._pending and time.monotonic() - (self._flushed_at or 0.0) >= self.interval:
                self._flush_locked()
            if not self._pending:
                _flusher.forget(self)

    def _flush_locked(self) -> None:
        self._flushed_at = time.monotonic()
        if self._pending:
            text, self._pending = "".join(self._pending), []
            if self.lease_token is None or self._flushed_at - self._checked_at < CHECK_SECONDS:
                append(self.schema, self.message_id, "delta", {"text": text})
            else:
                self._checked_at = self._flushed_at
                self.state = _append_delta_and_check(self.schema, self.message_id, text,
                                                     self.lease_token)


class _Flusher:
    """One thread per process sends the batches of every DeltaWriter that waits."""

    def __init__(self) -> None:
        self._waiting: set[DeltaWriter] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, writer: DeltaWriter) -> None:
        with self._lock:
            self._waiting.add(writer)
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="delta-flusher",
                                                daemon=True)
                self._thread.start()

    def forget(self, writer: DeltaWriter) -> None:
        with self._lock:
            self._waiting.discard(writer)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(FLUSH_SECONDS / 2)
            with self._lock:
                writers = list(self._waiting)
            for writer in writers:
                try:
                    writer.flush_if_stale()
                except StreamUnavailable:
                    self.forget(writer)  # the writer's own next write reports it
            with self._lock:  # watch() sets the event under the same lock
                if not self._waiting:
                    self._wake.clear()


_flusher = _Flusher()


def count_hits(windows: list[tuple[str, int]]) -> list[int]:
    """Count one hit in each window (key, seconds); returns the counts.

    A window opens with the first hit and lasts `seconds` (not aligned to the
    clock, so a burst across a minute boundary cannot pass twice the limit)."""
    try:
        pipe = _client().pipeline(transaction=False)
        for name, seconds in windows:
            bucket = f"ratelimit:{name}"
            # Create the window with its expiry first (EXPIRE NX needs Redis 7).
            pipe.set(bucket, 0, ex=seconds, nx=True)
            pipe.incr(bucket)
        results = pipe.execute()
    except (redis.RedisError, OSError) as exc:
        raise StreamUnavailable(str(exc)) from exc
    return results[1::2]


@_unavailable_on_redis_error
def request_stop(schema: str, message_id: int) -> None:
    _client().set(_key(schema, message_id, "stop"), "1", ex=STREAM_TTL_SECONDS)


@_unavailable_on_redis_error
def stop_requested(schema: str, message_id: int) -> bool:
    return bool(_client().exists(_key(schema, message_id, "stop")))


@_unavailable_on_redis_error
def writer_check(schema: str, message_id: int, token: str) -> str | None:
    """"stop" if the employee pressed Stop; "lost" if another worker now holds
    the answer's lease (ours lapsed, say while Redis was unreachable, and the
    answer is being redone): this writer must stop without a word, or the
    text would be written twice. None: carry on."""
    pipe = _client().pipeline(transaction=False)
    pipe.exists(_key(schema, message_id, "stop"))
    pipe.get(_key(schema, message_id, "lease"))
    stop, holder = pipe.execute()
    return _writer_state(stop, holder, token)


def _writer_state(stop: int, holder: str | None, token: str) -> str | None:
    if holder is not None and holder != token:
        return "lost"
    return "stop" if stop else None


@_unavailable_on_redis_error
def _append_delta_and_check(schema: str, message_id: int, text: str, token: str) -> str | None:
    """A batch of text, and writer_check() in the same round trip."""
    pipe = _client().pipeline(transaction=False)
    pipe.xadd(_key(schema, message_id), {"event": "delta", "data": json.dumps({"text": text})},
              maxlen=50000, approximate=True)
    pipe.exists(_key(schema, message_id, "stop"))
    pipe.get(_key(schema, message_id, "lease"))
    _entry, stop, holder = pipe.execute()
    return _writer_state(stop, holder, token)


@_unavailable_on_redis_error
def take_lease(schema: str, message_id: int, token: str) -> bool:
    """True if this worker now owns the answer (nobody else holds a live lease)."""
    return bool(_client().set(_key(schema, message_id, "lease"), token, nx=True,
                              ex=LEASE_SECONDS))


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Renew a lease that is ours or has lapsed; never one another worker took.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return false
"""


class LeaseKeeper:
    """Renews the leases of every answer this process is writing, from one
    thread, so a lease lives exactly as long as its worker does (even while
    the model is slow to send its first token)."""

    def __init__(self) -> None:
        self._leases: dict[str, str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, schema: str, message_id: int, token: str) -> None:
        with self._lock:
            self._leases[_key(schema, message_id, "lease")] = token
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-keeper",
                                                daemon=True)
                self._thread.start()

    def release(self, schema: str, message_id: int) -> None:
        key = _key(schema, message_id, "lease")
        with self._lock:
            token = self._leases.pop(key, None)
        if token is not None:  # only our own lease: another worker may hold it now
            _delete_lease(schema, message_id, token)

    def _run(self) -> None:
        renew = _client().register_script(_RENEW)
        while True:
            time.sleep(max(0.5, LEASE_SECONDS / 3))
            with self._lock:
                leases = dict(self._leases)
            if not leases:
                continue
            try:
                pipe = _client().pipeline(transaction=False)
                now = time.time()
                for key, token in leases.items():
                    renew(keys=[key], args=[token, LEASE_SECONDS], client=pipe)
                    # The answer's slot is alive too (never re-add one it freed).
                    _prefix, schema, message_id, _part = key.split(":")
                    pipe.zadd(_slot_keys(schema)[0], {message_id: now}, xx=True)
                pipe.execute()
            except (redis.RedisError, OSError):
                continue  # Redis is back soon, or the answer fails on its own


@_unavailable_on_redis_error
def _delete_lease(schema: str, message_id: int, token: str) -> None:
    _client().eval(_RELEASE, 1, _key(schema, message_id, "lease"), token)


leases = LeaseKeeper()


@_unavailable_on_redis_error
def lease_alive(schema: str, message_id: int) -> bool:
    return bool(_client().exists(_key(schema, message_id, "lease")))


@_unavailable_on_redis_error
def discard(schema: str, message_id: int) -> None:
    _client().delete(*(_key(schema, message_id, part)
                       for part in ("events", "stop", "lease", "final", "redo1", "redo2")))


# A finished answer's outcome waits here until the database has it (the
# worker's save may fail while PostgreSQL is down): whoever finds it later —
# the worker retrying, the abandoned-answer sweep, a redelivered task — saves
# it instead of failing or redoing the answer.
FINAL_KEEP_SECONDS = getattr(settings, "CHAT_FINAL_KEEP_SECONDS", 7 * 86400)


@_unavailable_on_redis_error
def keep_final(schema: str, message_id: int, fields: dict) -> None:
    _client().set(_key(schema, message_id, "final"), json.dumps(fields), ex=FINAL_KEEP_SECONDS)


@_unavailable_on_redis_error
def get_final(schema: str, message_id: int) -> dict | None:
    raw = _client().get(_key(schema, message_id, "final"))
    return json.loads(raw) if raw else None


@_unavailable_on_redis_error
def drop_final(schema: str, message_id: int) -> None:
    _client().delete(_key(schema, message_id, "final"))


@_unavailable_on_redis_error
def claim_redo(schema: str, message_id: int, attempt: int, *, seconds: int) -> bool:
    """True once per attempt of an answer: the caller re-enqueues it (several
    browsers and the sweep may notice the same dead worker at once)."""
    return bool(_client().set(_key(schema, message_id, f"redo{attempt}"), "1", nx=True,
                              ex=seconds))


@_unavailable_on_redis_error
def redo_requested(schema: str, message_id: int, attempt: int) -> bool:
    """A redo after this attempt was requested (within the key's lifetime)."""
    return bool(_client().exists(_key(schema, message_id, f"redo{attempt}")))


@dataclass(frozen=True)
class StreamEvent:
    id: str
    event: str
    data: dict


_EVENT_ID = re.compile(r"\A[0-9]{1,20}-[0-9]{1,20}\Z")


def is_event_id(value: str) -> bool:
    """True for a Redis stream id such as `1700000000000-0` (what Last-Event-ID
    carries back); anything else would be a Redis error, not an outage."""
    return bool(_EVENT_ID.match(value))


async def read(
    schema: str, message_id: int, *, after: str = "0-0", block_ms: int = READ_BLOCK_MS,
    wait_first: bool = True,
) -> AsyncIterator[list[StreamEvent]]:
    """Yield the events after `after`, a list per read (ending with the end
    event, if any); an empty list when nothing came for `block_ms` (the caller
    sends a keep-alive and checks the answer is still alive). With
    `wait_first=False` the first read returns at once, so a caller learns
    whether Redis answers before it commits to a response."""
    key = _key(schema, message_id)
    client = _async_client()
    last = after or "0-0"
    block: int | None = block_ms if wait_first else None
    while True:
        try:
            batches = await client.xread({key: last}, block=block, count=500)
        except (redis.RedisError, OSError) as exc:
            raise StreamUnavailable(str(exc)) from exc
        block = block_ms
        events: list[StreamEvent] = []
        for _key_name, entries in batches or []:
            for entry_id, fields in entries:
                last = entry_id
                events.append(StreamEvent(entry_id, fields["event"], json.loads(fields["data"])))
                if events[-1].event in END_EVENTS:
                    yield events
                    return
        yield events


# --- Fair share: answers in flight per client -----------------------------------
#
# Each client may have a limited number of answers in flight (admitted to the
# llm queue or being written). Over the limit an answer waits in the client's
# own line in Redis, not in the shared Celery queue, so one client's flood
# never sits in front of another client's question; when one of the client's
# answers ends, the next in its line is admitted. A slot is a member of a
# sorted set scored by the last sign of life (admission, then the lease
# keeper's beat): a slot nobody has renewed for SLOT_STALE_SECONDS (a worker
# that died without ending its answer) is taken back.
SLOT_STALE_SECONDS = getattr(settings, "CHAT_SLOT_STALE_SECONDS", 120)

# KEYS: in-flight set, waiting line. ARGV: limit, now, stale-before, [answer id].
# Adds the answer (if any) at the end of the line, then admits from the front
# while slots are free. Returns the admitted ids, then the answer's place in
# line (0: admitted or not given).
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if ARGV[4] then
  if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return {0} end
  redis.call('RPUSH', KEYS[2], ARGV[4])
end
local admitted = {}
local limit = tonumber(ARGV[1])
while redis.call('ZCARD', KEYS[1]) < limit do
  local id = redis.call('LPOP', KEYS[2])
  if not id then break end
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  table.insert(admitted, id)
end
local place = 0
if ARGV[4] and redis.call('ZSCORE', KEYS[1], ARGV[4]) == false then
  place = redis.call('LLEN', KEYS[2])
end
table.insert(admitted, place)
return admitted
"""

# KEYS: in-flight set, waiting line. ARGV: answer id. Frees its slot or its place.
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LREM', KEYS[2], 0, ARGV[1])
"""


def _slot_keys(schema: str) -> list[str]:
    return [f"inflight:{schema}", f"waiting:{schema}"]


@dataclass(frozen=True)
class Admission:
    admitted: list[int]  # answers to enqueue now (this one among them, or not)
    place: int  # this answer's place in its client's line; 0: admitted


@_unavailable_on_redis_error
def admit(schema: str, message_id: int | None, *, limit: int) -> Admission:
    """Take a slot for the answer, or put it in its client's line; either
    way, also admit whoever waits while slots are free."""
    now = time.time()
    args = [limit, now, now - SLOT_STALE_SECONDS]
    if message_id is not None:
        args.append(message_id)
    result = _client().eval(_ADMIT, 2, *_slot_keys(schema), *args)
    return Admission(admitted=[int(i) for i in result[:-1]], place=int(result[-1]))


@_unavailable_on_redis_error
def leave(schema: str, message_id: int, *, limit: int) -> list[int]:
    """The answer ended (or was stopped while waiting): free its slot and
    return the answers of the same client admitted in its place."""
    _client().eval(_LEAVE, 2, *_slot_keys(schema), message_id)
    return admit(schema, None, limit=limit).admitted


@_unavailable_on_redis_error
def place_in_line(schema: str, message_id: int) -> int:
    """1 for the next to be admitted; 0 if not waiting."""
    position = _client().lpos(_slot_keys(schema)[1], message_id)
    return 0 if position is None else position + 1
