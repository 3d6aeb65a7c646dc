"""Reads of the API app (current client schema)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import ApiSettings, ApiToken


def get_api_settings() -> ApiSettings:
    """The client's API settings; the defaults, unsaved, until an admin saves them."""
    return ApiSettings.objects.order_by("pk").first() or ApiSettings(pk=1)


def tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created", "-id")


def all_tokens() -> QuerySet[ApiToken]:
    """Every member's tokens, for the tenant admins' page."""
    return ApiToken.objects.select_related("user", "revoked_by").order_by("-created", "-id")


def get_own_token(*, user, token_id: int) -> ApiToken:
    """A token of this member (another's id: 404)."""
    return get_object_or_404(ApiToken, pk=token_id, user=user)


def get_token(*, token_id: int) -> ApiToken:
    return get_object_or_404(ApiToken, pk=token_id)
