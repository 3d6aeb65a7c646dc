"""Ended sessions, for the answer-stream fast path (chat/stream_app.py).

A stream token (chat/sse.py) is bound to a keyed hash of the session key it
was issued to, and the fast path checks it without the database. When a
session ends — sign-out, a renewed session key (sign-in, password change),
deactivation, a password change elsewhere, SCIM — `revoke` leaves a mark
under that hash in Redis for as long as any token of it can live
(CHAT_STREAM_TOKEN_SECONDS); the fast path refuses a token whose session has
a mark (one EXISTS, on the Redis connection it reads the stream with), and an
open stream stops at its next check.

Writing a mark never stops the session from ending: with Redis down it is
logged (and the fast path, which reads Redis, serves nothing then either).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.utils.crypto import salted_hmac

from core import redis_client

logger = logging.getLogger(__name__)

TOKEN_SALT = "chat.answer-stream"
# How long a stream token lives: the answer deadline and a minute.
TOKEN_SECONDS = getattr(settings, "CHAT_STREAM_TOKEN_SECONDS", None) or (
    getattr(settings, "CHAT_ANSWER_DEADLINE_SECONDS", 300) + 60)


def session_binding(session_key: str) -> str:
    """A keyed hash of the session key: the token names the session without
    carrying it."""
    return salted_hmac(TOKEN_SALT, session_key).hexdigest()[:32]


def mark_key(binding: str) -> str:
    return f"stream-revoked:{binding}"


def revoke(session_keys: Iterable[str | None]) -> None:
    """The stream tokens of these sessions stop working now."""
    keys = [mark_key(session_binding(key)) for key in session_keys if key]
    if not keys:
        return
    try:
        pipe = redis_client.client().pipeline(transaction=False)
        for key in keys:
            pipe.set(key, "1", ex=TOKEN_SECONDS + 5)
        pipe.execute()
    except redis_client.ERRORS as exc:
        logger.error("Could not revoke the stream tokens of %d ended session(s): %s",
                     len(keys), exc)


def is_revoked(binding: str) -> bool:
    """Whether the session with this binding ended (Redis down: Unavailable)."""
    try:
        return bool(redis_client.client().exists(mark_key(binding)))
    except Exception as exc:
        if not redis_client.is_client_error(exc):
            raise
        raise redis_client.unavailable(exc) from exc


async def is_revoked_async(binding: str) -> bool:
    """`is_revoked` on the running event loop's connection."""
    try:
        return bool(await redis_client.async_client().exists(mark_key(binding)))
    except Exception as exc:
        if not redis_client.is_client_error(exc):
            raise
        raise redis_client.unavailable(exc) from exc
