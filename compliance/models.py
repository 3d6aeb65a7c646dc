"""Compliance data. The app lives in both the public schema (the platform's
security overview content) and every client's schema (that client's data
controls, notice acceptances, audit trail and purges).

Chat ids are plain integers, not foreign keys: compliance does not depend on chat.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from compliance.entities import default_entities_for
from compliance.overview_versions import DEFAULT_LANGUAGE, LANGUAGE_CHOICES


def overview_language_field():
    return models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default=DEFAULT_LANGUAGE,
                            db_index=True,
                            help_text="Which language version of the overview this belongs to.")


class OverviewSection(models.Model):
    """One titled part of the security overview (platform content, public schema),
    in one language; the same slug in each language is the same part."""

    language = overview_language_field()
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(
        help_text="Paragraphs separated by blank lines; lines starting with '- ' are bullets.")

    class Meta:
        ordering = ["language", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["language", "slug"],
                                               name="overview_section_slug_per_language")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class OverviewLink(models.Model):
    """One row of the overview's reference-links table, in one language."""

    language = overview_language_field()
    name = models.CharField(max_length=200)
    description = models.TextField()
    url = models.URLField(max_length=500)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["language", "order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class OverviewReview(models.Model):
    """When staff last checked one language's version of the overview against the
    sources (one row per language)."""

    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, unique=True,
                                default=DEFAULT_LANGUAGE)
    last_reviewed = models.DateField()
    reviewed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "overview review date"

    def __str__(self) -> str:
        return f"{self.get_language_display()}: last reviewed {self.last_reviewed.isoformat()}"


def default_entities() -> list[str]:
    # A client's row is set to its country's defaults when it is provisioned
    # (compliance.services.apply_country_defaults); this is the country-less set.
    return default_entities_for(None)


class DataControls(models.Model):
    """A client's data-handling settings (one row per client schema)."""

    redaction_enabled = models.BooleanField(default=True)
    redaction_entities = models.JSONField(default=default_entities, blank=True)
    redaction_terms = models.JSONField(default=list, blank=True)
    # Secrets come back into the answer only if the admin chooses; otherwise
    # the employee sees the placeholder.
    restore_secrets = models.BooleanField(default=False)
    # None means "keep forever".
    conversation_retention_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)])
    file_retention_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)])
    monthly_token_quota = models.PositiveBigIntegerField(null=True, blank=True)
    user_monthly_token_quota = models.PositiveBigIntegerField(null=True, blank=True)
    notice_version = models.PositiveSmallIntegerField(default=1)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "data controls"

    def __str__(self) -> str:
        return "Data controls"


class NoticeAcceptance(models.Model):
    """An employee accepted the data-handling notice (once per notice version)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notice_acceptances")
    version = models.PositiveSmallIntegerField()
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"],
                                               name="notice_once_per_version")]

    def __str__(self) -> str:
        return f"{self.user} accepted notice v{self.version}"


class ConversationRedaction(models.Model):
    """Placeholder -> original for one conversation, so `<EMAIL_1>` stays the same
    address all conversation long. Lives in the client's schema; never sent."""

    conversation_id = models.BigIntegerField(unique=True)
    mapping = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Placeholders of conversation {self.conversation_id}"


class MessageRedaction(models.Model):
    """What was taken out of one user message before it left, shown to its author."""

    message_id = models.BigIntegerField(unique=True)
    conversation_id = models.BigIntegerField(db_index=True)
    items = models.JSONField(default=list)  # [{"type", "label", "placeholder", "original"}]
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Redactions of message {self.message_id}"


class AuditRecord(models.Model):
    """One outbound call to the model API, without content. Append-only (a
    database trigger refuses UPDATE and DELETE) and chained per client by
    keyed signatures (HMAC) whose keys live outside the database."""

    class Status(models.TextChoices):
        OK = "ok", _("OK")
        STOPPED = "stopped", _("Stopped")
        ERROR = "error", _("Error")

    seq = models.PositiveBigIntegerField(unique=True)
    created = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16)  # "chat" or "embed"
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_email = models.CharField(max_length=254, blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    endpoint = models.CharField(max_length=500)
    model = models.CharField(max_length=200)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices)
    error_kind = models.CharField(max_length=40, blank=True)
    redactions = models.JSONField(default=dict, blank=True)  # entity type -> count
    prev_hash = models.CharField(max_length=64)
    # HMAC-SHA256 of the fields and prev_hash under the key named key_id
    # (compliance.audit_signing; the keys are not in the database).
    hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.status}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class PurgeRecord(models.Model):
    """One run of the retention job in a client's schema."""

    ran_at = models.DateTimeField(auto_now_add=True)
    conversation_cutoff = models.DateTimeField(null=True, blank=True)
    file_cutoff = models.DateTimeField(null=True, blank=True)
    deleted = models.JSONField(default=dict)  # what -> how many

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"Purge at {self.ran_at:%Y-%m-%d %H:%M}"
