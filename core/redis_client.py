"""The one module that imports the Redis client library.

Every Redis concern has a module of its own, and each gets its connections
and its one error type here:

- answer streams, stop flags, kept outcomes: `chat/streams.py`
- answer leases (which worker writes an answer): `chat/leases.py`
- each client's answers in flight and its line (fair share): `chat/slots.py`
- rate limits (fixed windows): `core/rate_limits.py`
- the health check: `tenants/health.py` (through `ping`)
- the cache (`django.core.cache`, sign-in and reset throttling) and the Celery
  broker (`config/broker.py`, kombu's transport) are Django's and kombu's own.

A Redis failure comes out as `Unavailable` (or, for code reading the cache,
is caught with `ERRORS`), so callers have one thing to catch and turn into
the "temporarily unavailable" message. A failure is anything the client
library raises, not only its own error types: on a slow or broken connection
redis-py also lets out a `ValueError: I/O operation on closed file` or an
`AttributeError` from a socket another thread closed (`is_client_error`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings

# What a Redis outage raises: the client's own errors and the socket's.
ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
# ... and whatever else comes out of the client library's own code.
_CLIENT_DIRS = tuple(os.path.dirname(module.__file__) + os.sep for module in (redis,))

# Async reads may block this long (answer streams); their socket waits longer.
MAX_BLOCK_SECONDS = 15

_sync_client: redis.Redis | None = None
_async_clients: dict[int, aioredis.Redis] = {}


class Unavailable(Exception):
    """Redis cannot be reached (or failed a command)."""


def is_client_error(exc: BaseException) -> bool:
    """True if `exc` is a Redis failure: one of ERRORS, or any other error
    raised inside the Redis client library (its traceback passes through
    redis-py's code), such as `ValueError: I/O operation on closed file` on a
    connection that was closed while connecting. An error of our own code
    (a bad JSON value read back, a bug) stays what it is."""
    if isinstance(exc, ERRORS):
        return True
    if not isinstance(exc, Exception) or isinstance(exc, Unavailable):
        return False
    return any(frame.f_code.co_filename.startswith(_CLIENT_DIRS)
               for frame, _line in traceback.walk_tb(exc.__traceback__))


def unavailable(exc: BaseException) -> Unavailable:
    """The `Unavailable` to raise for a Redis failure (see is_client_error)."""
    return exc if isinstance(exc, Unavailable) else Unavailable(str(exc) or repr(exc))


_P = ParamSpec("_P")
_R = TypeVar("_R")


def unavailable_on_error(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn any Redis failure inside `function` into `Unavailable`."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            if not is_client_error(exc):
                raise
            raise unavailable(exc) from exc

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
    except Exception as exc:
        if not is_client_error(exc):
            raise
        return False
