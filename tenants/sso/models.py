"""A client's single sign-on: its OpenID Connect provider, who may come in, and
the SCIM token its directory uses. Lives in the client's own schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SsoSettings(models.Model):
    """One row per client schema (see selectors.get_settings)."""

    enabled = models.BooleanField(_("sign-in with the company's provider is on"), default=False)
    company_label = models.CharField(_("company name on the sign-in button"), max_length=80,
                                     blank=True)
    issuer = models.URLField(_("issuer (discovery URL)"), max_length=500, blank=True)
    client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    # Encrypted with core.secrets (MultiFernet); only the last characters are shown.
    client_secret_encrypted = models.TextField(blank=True)
    client_secret_last4 = models.CharField(max_length=4, blank=True)
    scopes = models.CharField(_("scopes"), max_length=255, default="openid email profile")
    allowed_domains = models.TextField(_("allowed e-mail domains"), blank=True)
    groups_claim = models.CharField(_("groups claim"), max_length=100, default="groups")
    admin_group = models.CharField(_("group that makes a tenant admin"), max_length=255,
                                   blank=True)
    sso_only = models.BooleanField(_("SSO only"), default=False)
    break_glass_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("break-glass administrator"),
    )
    # SCIM bearer token: only its SHA-256 is kept; shown once when made.
    scim_token_sha256 = models.CharField(max_length=64, blank=True)
    scim_token_last4 = models.CharField(max_length=4, blank=True)
    scim_token_created_at = models.DateTimeField(null=True, blank=True)
    # The last sign-in problem, in detail, for the tenant admin.
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.company_label or "SSO"

    @property
    def domains(self) -> list[str]:
        return [d for d in self.allowed_domains.split() if d]

    @property
    def is_ready(self) -> bool:
        return bool(self.enabled and self.issuer and self.client_id
                    and self.client_secret_encrypted)


class ExternalIdentity(models.Model):
    """Links a member to the provider's subject (OIDC `sub`) and the directory's
    SCIM externalId. One per member."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="external_identity")
    issuer = models.CharField(max_length=500, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    scim_external_id = models.CharField(max_length=255, blank=True)
    created_by_scim = models.BooleanField(default=False)
    last_sso_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], condition=~models.Q(subject=""),
                name="sso_identity_unique_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject or self.scim_external_id})"
