"""The session engine (SESSION_ENGINE): Django's database sessions, where a
session that ends through the store — sign-out, or a key renewed at sign-in
or on a password change — also revokes its answer-stream tokens at once
(core/stream_revocation.py). Sessions ended in bulk (deactivation, a
password changed elsewhere, SCIM) go through members.services.end_sessions,
which revokes them too."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from core import stream_revocation


class SessionStore(DatabaseSessionStore):
    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        super().delete(session_key)
        stream_revocation.revoke([key])

    async def adelete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        await super().adelete(session_key)
        stream_revocation.revoke([key])
