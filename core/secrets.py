"""Encryption at rest for clients' API keys (MultiFernet: rotatable)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        if not (settings.DEBUG or settings.DEV_MODE):
            raise ImproperlyConfigured(
                "TUNEAIBOT_ENCRYPTION_KEYS is not set: it is needed to store API keys. "
                "Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        # Development only: a key derived from SECRET_KEY, so a fresh clone works.
        digest = hashlib.sha256(("tuneaibot-dev-keys:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored API key cannot be decrypted with the configured "
            "TUNEAIBOT_ENCRYPTION_KEYS; keep the old key in the list when rotating."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (after adding one at the front)."""
    return _fernet().rotate(token.encode()).decode()
