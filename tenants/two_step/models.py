"""Second factors beside django-otp's own devices (authenticator apps: otp_totp,
recovery codes: otp_static): passkeys, remembered browsers and the record of
changes. Like the people they belong to, they live in one schema (a client's,
or the public one for platform staff)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Passkey(models.Model):
    """A WebAuthn credential registered by a person (checked by py_webauthn)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="passkeys")
    name = models.CharField(_("name"), max_length=60)
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return self.name


class RememberedBrowser(models.Model):
    """A browser that may skip the second step until `expires`. The cookie holds
    a random token; only its SHA-256 is kept, so a database read cannot forge one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="remembered_browsers")
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} until {self.expires:%Y-%m-%d}"


class SecondFactorEvent(models.Model):
    """The record of changes to people's second factors (who, whose, what, when)."""

    class Action(models.TextChoices):
        TOTP_ADDED = "totp_added", _("Authenticator app added")
        PASSKEY_ADDED = "passkey_added", _("Passkey added")
        FACTOR_REMOVED = "factor_removed", _("Second factor removed")
        RECOVERY_CODES_MADE = "recovery_codes", _("New recovery codes made")
        RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
        RESET = "reset", _("Two-step sign-in reset")
        POLICY_CHANGED = "policy", _("Two-step sign-in requirement changed")

    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=24, choices=Action.choices)
    # E-mails, not keys: the record outlives the accounts (and staff live in another schema).
    actor = models.CharField(max_length=254)
    subject = models.CharField(max_length=254, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject} by {self.actor}"
