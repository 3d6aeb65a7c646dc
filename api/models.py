"""Personal access tokens for the OpenAI-compatible API, and the client's
switch for it. Both live in the client's own schema: a token of one client
means nothing on another client's site."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiSettings(models.Model):
    """One row per client (see selectors.get_api_settings)."""

    enabled = models.BooleanField(
        _("API enabled"), default=True,
        help_text=_("Members can reach the assistant from their tools with a personal "
                    "access token."))
    # Origins (scheme://host[:port]) whose web pages may call the API from a
    # browser; none: cross-origin calls are refused (CORS off).
    cors_origins = models.JSONField(default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "API settings"


class ApiToken(models.Model):
    """A member's personal access token. Only its SHA-256 is kept (the token
    is shown once, when made); `prefix` is its first characters, enough for
    the member to recognise it in a list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    token_sha256 = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
