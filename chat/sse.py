"""An answer stream as server-sent events, shared by its two doors: the
Django view (`chat.views.answer_stream`, session authorisation) and the fast
path in front of Django (`chat.stream_app`, a signed stream token, no
database, no session). Both write the same events with the same ids, so a
browser may reconnect from one door to the other and resume where it was.

The stream token: the `POST /send/` JSON's `stream_url` carries `?t=` a
short-lived token signed with SECRET_KEY (Django's TimestampSigner) naming
the client's schema, the site's host, the answer, the user, the language,
and a keyed hash of the session cookie. A token is good for
CHAT_STREAM_TOKEN_SECONDS (the answer deadline and a minute), only on that
host, for that answer, and only with the same session cookie, and only
while that session lives (an ended session leaves a mark in Redis,
core/stream_revocation.py): a leaked URL alone (proxy log, history) reads
nothing; after sign-out or its expiry the URL is served by the Django view,
which checks the session as for any page.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core import signing
from django.db import connections
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from chat import leases, services, slots
from chat.models import Message
from chat.rendering import markdown_to_html
from core import stream_revocation

# While an answer's stream is quiet, check this often that a worker holds it.
STALE_CHECK_MS = getattr(settings, "CHAT_STALE_CHECK_SECONDS", 5) * 1000

# The token's salt, lifetime and session binding live beside the marks of
# ended sessions (core/stream_revocation.py), which tenants write too.
TOKEN_SALT = stream_revocation.TOKEN_SALT
TOKEN_SECONDS = stream_revocation.TOKEN_SECONDS
session_binding = stream_revocation.session_binding


def event(name: str, data: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


def reconnect_event() -> str:
    """Said when Redis went away mid-stream (in the active language): the
    answer goes on and the stream picks up where it was once Redis is back
    (its worker keeps the text meanwhile). Not an end event: the browser
    reconnects with Last-Event-ID."""
    return event("status", {"status": "retrying", "reason": "redis", "notice": gettext(
        "The message service is restarting; the answer continues as soon as it is back…")})


def events(batch) -> str:
    """One string for a batch of stream entries (one write to the socket)."""
    return "".join(event(item.event, item.data, item.id) for item in batch)


def issue_token(*, schema: str, host: str, answer_id: int, user_id: int,
                session_key: str, language: str) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object({
        "s": schema, "h": host.lower(), "a": answer_id, "u": user_id,
        "k": session_binding(session_key), "l": language,
    })


def verify_token(token: str, *, host: str, answer_id: int,
                 session_key: str | None) -> dict | None:
    """The token's claims if it is genuine, unexpired and names this host,
    this answer and this session; else None (the caller hands the request to
    the Django view)."""
    if not token or not session_key:
        return None
    try:
        claims = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(
            token, max_age=TOKEN_SECONDS)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(claims, dict):
        return None
    if (claims.get("a") != answer_id or claims.get("h") != host.lower()
            or not isinstance(claims.get("s"), str)
            or not constant_time_compare(str(claims.get("k", "")),
                                         session_binding(session_key))):
        return None
    return claims


def stale_state(schema: str, answer_id: int, *, alive: bool | None = None) -> dict | None:
    """The stored outcome if the answer finished without (or after) its stream;
    an answer whose worker died is redone (or failed) on the way. `alive`:
    the caller already knows whether a worker holds the answer or it waits
    in its client's line (the fast path asks Redis itself)."""
    if alive is None:
        # A worker is on it (the model is slow to answer), or it is queued
        # behind its client's other answers: alive, and no database trip
        # every few seconds for each of a thousand waiting streams.
        alive = (leases.lease_alive(schema, answer_id)
                 or bool(slots.place_in_line(schema, answer_id)))
    if alive:
        return None
    try:
        return _stored_state(schema, answer_id)
    finally:
        connections.close_all()  # the stream goes back to waiting on Redis alone


def _stored_state(schema: str, answer_id: int) -> dict | None:
    with schema_context(schema):
        answer = Message.objects.filter(pk=answer_id).first()
        if answer is None:
            return {"status": "failed", "error": gettext("This answer no longer exists."),
                    "html": ""}
        if not answer.is_finished:
            services.fail_if_abandoned(answer=answer)
    if answer.is_finished:
        return {"status": answer.status, "error": answer.error,
                "html": markdown_to_html(answer.content)}
    return None
