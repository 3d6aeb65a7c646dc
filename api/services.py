"""Writes of the API app: personal access tokens (made, used, revoked), the
client's API settings, and the per-token rate limit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from api import selectors
from api.errors import ApiError
from api.models import ApiSettings, ApiToken
from chat.services import parse_rate
from core import rate_limits, redis_client
from tenants.db import current_schema

# A recognisable start, so secret scanners (and people) can tell a leaked
# token for what it is.
TOKEN_PREFIX = "tuneai_pat_"
MAX_DAYS = 365
DEFAULT_DAYS = 90
# last_used_at is written at most this often per token (not on every call).
LAST_USED_EVERY = dt.timedelta(minutes=1)


def _digest(secret: str) -> str:
    # The token has 256 random bits: a plain SHA-256 cannot be reversed or
    # guessed, and it is looked up by equality (an index), like the SCIM token.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user, name: str, days: int = DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and its secret (shown once, never stored)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": gettext("Give the token a name, such as the tool "
                                               "that will use it.")})
    if len(name) > 80:
        raise ValidationError({"name": gettext("A token's name is at most 80 characters.")})
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValidationError({"days": gettext("A token lasts from 1 to %(max)d days.")
                               % {"max": MAX_DAYS}})
    if not user.is_active:
        raise ValidationError(gettext("A deactivated member cannot have tokens."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, token_sha256=_digest(secret),
        prefix=secret[:len(TOKEN_PREFIX) + 4],
        expires_at=timezone.now() + dt.timedelta(days=int(days)))
    return token, secret


def revoke_token(*, token: ApiToken, by) -> ApiToken:
    """The token stops working at once (its next request is a 401)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def authenticate(*, authorization: str, api_settings: ApiSettings | None = None) -> ApiToken:
    """The live token named by an `Authorization: Bearer …` header, with its
    member; ApiError 401 otherwise (403: the client switched the API off)."""
    scheme, _sep, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise ApiError(401, gettext(
            "No API token was given. Send your personal access token in the Authorization "
            "header (Authorization: Bearer <token>); make one on your API tokens page."),
            code="missing_api_key")
    token = (ApiToken.objects.select_related("user").filter(token_sha256=_digest(secret))
             .first() if secret.startswith(TOKEN_PREFIX) else None)
    now = timezone.now()
    if token is None:
        raise ApiError(401, gettext(
            "This API token is not valid for this workspace. Check that you copied it whole "
            "and that you call your own company's address."), code="invalid_api_key")
    if token.revoked_at is not None:
        raise ApiError(401, gettext("This API token was revoked. Make a new one on your API "
                                    "tokens page."), code="invalid_api_key")
    if token.expires_at <= now:
        raise ApiError(401, gettext("This API token has expired. Make a new one on your API "
                                    "tokens page."), code="invalid_api_key")
    if not token.user.is_active:
        raise ApiError(401, gettext("The member this API token belongs to is deactivated."),
                       code="invalid_api_key")
    if not (api_settings or selectors.get_api_settings()).enabled:
        raise ApiError(403, gettext("Your workspace's admins have switched the API off."),
                       code="api_disabled")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def check_token_rate(*, token: ApiToken) -> None:
    """The per-token limit (API_RATE_LIMIT_PER_TOKEN), before the chat's own
    per-person and per-client limits; ApiError 429 with Retry-After."""
    rate = parse_rate(settings.API_RATE_LIMIT_PER_TOKEN)
    try:
        [count] = rate_limits.count_hits([(f"apitoken:{current_schema()}:{token.pk}",
                                          rate.seconds)])
    except redis_client.Unavailable as exc:
        raise ApiError(503, gettext("The assistant is temporarily unavailable. Try again in "
                                    "a moment."), retry_after=5) from exc
    if count > rate.count:
        raise ApiError(429, gettext(
            "This token is sending requests faster than allowed (%(rate)s). Wait and try "
            "again.") % {"rate": settings.API_RATE_LIMIT_PER_TOKEN},
            code="rate_limit_exceeded", retry_after=rate.seconds)


def clean_origins(lines: list[str]) -> list[str]:
    origins = []
    for line in lines:
        line = line.strip().rstrip("/")
        if not line:
            continue
        parts = urlsplit(line)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.path:
            raise ValidationError({"cors_origins": gettext(
                "“%(origin)s” is not an origin: write it like https://tools.example.com "
                "(scheme and host, no path).") % {"origin": line}})
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return sorted(set(origins))


def update_api_settings(*, enabled: bool, cors_origins: list[str]) -> ApiSettings:
    api_settings = selectors.get_api_settings()
    api_settings.enabled = enabled
    api_settings.cors_origins = clean_origins(cors_origins)
    api_settings.save()
    return api_settings
