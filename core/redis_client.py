"""The one module that imports the Redis client library.

Every Redis concern has a module of its own, and each gets its connections
and its one error type here:

- answer streams, stop flags, kept outcomes: `chat/streams.py`
- answer leases (which worker writes an answer): `chat/leases.py`
- rate limits (fixed windows): `core/rate_limits.py`
- the health check: `tenants/health.py` (through `ping`)
- the cache (`django.core.cache`, sign-in and reset throttling) and the Celery
  broker (`config/broker.py`, kombu's transport) are Django's and kombu's own.

A Redis failure comes out as `Unavailable` (or, for code reading the cache,
is caught with `ERRORS`), so callers have one thing to catch and turn into
the "temporarily unavailable" message.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings

# What a Redis outage raises: the client's own errors and the socket's.
ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

# Async reads may block this long (answer streams); their socket waits longer.
MAX_BLOCK_SECONDS = 15

_sync_client: redis.Redis | None = None
_async_clients: dict[int, aioredis.Redis] = {}


class Unavailable(Exception):
    """Redis cannot be reached (or failed a command)."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def unavailable_on_error(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn any Redis failure inside `function` into `Unavailable`."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except ERRORS as exc:
            raise Unavailable(str(exc)) from exc

    return wrapper


def client() -> redis.Redis:
    """The process's shared client (a connection pool; strings in and out)."""
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5,
            max_connections=500, decode_responses=True,
        )
    return _sync_client


def async_client() -> aioredis.Redis:
    """The client of the running event loop (redis.asyncio connections are
    bound to their loop: one pool per loop)."""
    loop_id = id(asyncio.get_running_loop())
    found = _async_clients.get(loop_id)
    if found is None:
        found = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2,
            socket_timeout=MAX_BLOCK_SECONDS + 10, decode_responses=True,
            max_connections=2000,
        )
        _async_clients[loop_id] = found
    return found


def ping(*, url: str | None = None, timeout: float = 1) -> bool:
    """Redis (at `url`, else REDIS_URL) answers, on a connection of its own."""
    try:
        probe = redis.Redis.from_url(url or settings.REDIS_URL, socket_connect_timeout=timeout,
                                     socket_timeout=timeout)
        try:
            return bool(probe.ping())
        finally:
            probe.close()
    except ERRORS:
        return False
