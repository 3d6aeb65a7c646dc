"""Reads for single sign-on, in the current (client's) schema."""

from __future__ import annotations

import hashlib
import hmac

from django_tenants.utils import get_public_schema_name

from tenants.db import current_schema, tenant_connection
from tenants.members.models import User
from tenants.sso.models import SsoSettings


def in_client_schema() -> bool:
    return current_schema() != get_public_schema_name()


SETTINGS_PK = 1  # one row per client schema


def get_settings() -> SsoSettings:
    """This client's SSO settings (an unsaved default row when never configured)."""
    return (SsoSettings.objects.select_related("break_glass_user").filter(pk=SETTINGS_PK).first()
            or SsoSettings(pk=SETTINGS_PK))


def sign_in_offer() -> tuple[str | None, bool]:
    """('<company>' for "Sign in with <company>" or None when SSO is off, SSO only?)."""
    if not in_client_schema():
        return None, False
    config = get_settings()
    if not config.is_ready:
        return None, False
    label = config.company_label or (getattr(tenant_connection().tenant, "name", "") or "SSO")
    return label, config.sso_only


def password_login_allowed(*, user: User) -> bool:
    """False for members of an SSO-only client, except its break-glass admin."""
    if not in_client_schema():
        return True
    config = get_settings()
    if not (config.is_ready and config.sso_only):
        return True
    return config.break_glass_user_id is not None and config.break_glass_user_id == user.pk


def scim_token_matches(*, token: str) -> bool:
    """Whether `token` is this client's SCIM token (constant-time on its hash)."""
    if not token or not in_client_schema():
        return False
    stored = get_settings().scim_token_sha256
    if not stored:
        return False
    digest = hashlib.sha256(token.encode()).hexdigest()
    return hmac.compare_digest(digest, stored)


def break_glass_candidates():
    """Active tenant admins who have a password: the ones who may be break-glass."""
    return User.objects.filter(is_active=True, role=User.Role.ADMIN).exclude(
        password__startswith="!")
