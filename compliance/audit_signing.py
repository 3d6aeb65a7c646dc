"""Keys that sign the audit chain (HMAC-SHA256), kept outside the database.

Each record's hash is an HMAC over its fields and the previous record's hash,
under a key named by the record (`key_id`). Someone who can write to the
database but does not hold the key cannot forge a record, re-link the chain
after changing one, or re-sign the whole history: `verify_audit` names the
first record whose signature does not match.

Keys come from TUNEAIBOT_AUDIT_KEYS: comma-separated `id:secret` pairs, newest
first. New records are signed with the first; older keys stay in the list so
the records they signed still verify (rotation: put a new pair in front, keep
the old ones for as long as their records exist).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEV_KEY_ID = "dev"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"SigningKey({self.key_id!r})"


def signing_keys() -> list[SigningKey]:
    """The configured keys, newest first (at least one)."""
    keys = []
    for entry in settings.AUDIT_SIGNING_KEYS:
        key_id, sep, secret = entry.partition(":")
        if not sep or not key_id.strip() or len(secret.strip()) < 32:
            raise ImproperlyConfigured(
                "TUNEAIBOT_AUDIT_KEYS must be comma-separated 'id:secret' pairs with secrets "
                "of at least 32 characters; generate one with: python -c 'import secrets; "
                "print(\"k1:\" + secrets.token_urlsafe(48))'")
        keys.append(SigningKey(key_id.strip(), secret.strip().encode()))
    if keys:
        return keys
    if not (settings.DEBUG or settings.DEV_MODE):
        raise ImproperlyConfigured(
            "TUNEAIBOT_AUDIT_KEYS is not set: it signs the audit trail. Generate one with: "
            "python -c 'import secrets; print(\"k1:\" + secrets.token_urlsafe(48))'")
    return [_dev_key()]


def _dev_key() -> SigningKey:
    """Development only: a key derived from SECRET_KEY, so a fresh clone works."""
    derived = hashlib.sha256(("tuneaibot-dev-audit:" + settings.SECRET_KEY).encode()).digest()
    return SigningKey(DEV_KEY_ID, derived)


def current_key() -> SigningKey:
    return signing_keys()[0]


def key_named(key_id: str) -> SigningKey | None:
    key = next((key for key in signing_keys() if key.key_id == key_id), None)
    if key is None and key_id == DEV_KEY_ID and (settings.DEBUG or settings.DEV_MODE):
        # A development instance that ran (or was upgraded) before its .env got
        # TUNEAIBOT_AUDIT_KEYS signed with the derived key: those records still
        # verify there; new ones are signed with the configured key.
        return _dev_key()
    return key


def sign(key: SigningKey, canonical: bytes) -> str:
    return hmac.new(key.secret, canonical, hashlib.sha256).hexdigest()


def matches(key: SigningKey, canonical: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(key, canonical), signature)
