"""Reads for compliance: the platform's overview content, a client's data
controls, its audit trail and usage against quota."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from compliance.entities import ENTITY_LABELS, default_entities_for
from compliance.models import (
    AuditRecord,
    DataControls,
    MessageRedaction,
    NoticeAcceptance,
    OverviewLink,
    OverviewReview,
    OverviewSection,
    PurgeRecord,
)
from compliance.overview_content import Labels
from compliance.overview_versions import DEFAULT_LANGUAGE, VERSIONS, base_language, labels_for

__all__ = ["ENTITY_LABELS"]  # re-exported: llm.privacy reads the labels from here


@dataclass(frozen=True)
class Overview:
    """One language's version of the overview, as shown.

    ``language`` is the version shown; ``requested`` the language asked for. They
    differ when the requested language has no content (English is shown instead,
    with ``fallback_note`` in the requested language where we have its labels).
    """

    sections: list[OverviewSection]
    links: list[OverviewLink]
    last_reviewed: dt.date | None
    language: str = DEFAULT_LANGUAGE
    requested: str = DEFAULT_LANGUAGE

    @property
    def labels(self) -> Labels:
        return labels_for(self.language)

    @property
    def is_fallback(self) -> bool:
        return self.language != self.requested

    @property
    def fallback_note(self) -> str:
        return labels_for(self.requested).fallback_note if self.is_fallback else ""

    @property
    def note_language(self) -> str:
        """The language ``fallback_note`` is written in."""
        return self.requested if self.requested in VERSIONS else DEFAULT_LANGUAGE

    @property
    def version_line(self) -> str:
        """E.g. "English version · Last reviewed: 24 November 2026"."""
        return f"{self.labels.version} · {self.labels.reviewed(self.last_reviewed)}"


def overview(*, language: str = DEFAULT_LANGUAGE) -> Overview:
    """The security overview in ``language`` ("ko", "ko-kr"...), always read from the
    platform (public) schema; English when that language has no sections."""
    requested = base_language(language) or DEFAULT_LANGUAGE
    with schema_context(get_public_schema_name()):
        shown = requested
        sections = list(OverviewSection.objects.filter(language=shown).order_by("order", "id"))
        if not sections and shown != DEFAULT_LANGUAGE:
            shown = DEFAULT_LANGUAGE
            sections = list(OverviewSection.objects.filter(language=shown)
                            .order_by("order", "id"))
        links = list(OverviewLink.objects.filter(language=shown).order_by("order", "id"))
        if not links and shown != DEFAULT_LANGUAGE:
            # A version without its own links still lists the references.
            links = list(OverviewLink.objects.filter(language=DEFAULT_LANGUAGE)
                         .order_by("order", "id"))
        review = OverviewReview.objects.filter(language=shown).first()
        return Overview(
            sections=sections, links=links,
            last_reviewed=review.last_reviewed if review else None,
            language=shown, requested=requested,
        )


def get_data_controls() -> DataControls:
    """The client's data controls. A read: the row is created by migration
    0005_data_controls_row (in the template every client is cloned from);
    without it, the defaults for the client's country, unsaved
    (services.update_data_controls saves them as row 1)."""
    controls = DataControls.objects.order_by("pk").first()
    if controls is None:
        country = getattr(getattr(connection, "tenant", None), "country", "")
        controls = DataControls(pk=1, redaction_entities=default_entities_for(country))
    return controls


def has_accepted_notice(*, user, controls: DataControls | None = None) -> bool:
    version = (controls or get_data_controls()).notice_version
    return NoticeAcceptance.objects.filter(user=user, version=version).exists()


def last_purge() -> PurgeRecord | None:
    return PurgeRecord.objects.order_by("-ran_at").first()


def redactions_for_messages(*, message_ids) -> dict[int, list[dict]]:
    return {row.message_id: row.items
            for row in MessageRedaction.objects.filter(message_id__in=list(message_ids))}


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def tokens_used_this_month(*, user_id: int | None = None) -> int:
    records = AuditRecord.objects.filter(created__gte=month_start())
    if user_id is not None:
        records = records.filter(user_id=user_id)
    totals = records.aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
    return (totals["p"] or 0) + (totals["c"] or 0)


@dataclass(frozen=True)
class QuotaUsage:
    used: int
    quota: int | None

    @property
    def reached(self) -> bool:
        return self.quota is not None and self.used >= self.quota

    @property
    def percent(self) -> int | None:
        if not self.quota:
            return None
        return min(100, round(self.used * 100 / self.quota))


def client_usage(*, controls: DataControls | None = None) -> QuotaUsage:
    controls = controls or get_data_controls()
    return QuotaUsage(used=tokens_used_this_month(), quota=controls.monthly_token_quota)


def user_usage(*, user_id: int, controls: DataControls | None = None) -> QuotaUsage:
    controls = controls or get_data_controls()
    return QuotaUsage(used=tokens_used_this_month(user_id=user_id),
                      quota=controls.user_monthly_token_quota)


def audit_records(*, user_id: int | None = None, status: str = "",
                  since: dt.date | None = None, until: dt.date | None = None,
                  ) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.order_by("-seq")
    if user_id:
        records = records.filter(user_id=user_id)
    if status:
        records = records.filter(status=status)
    if since:
        records = records.filter(created__date__gte=since)
    if until:
        records = records.filter(created__date__lte=until)
    return records


def usage_by_day(records: QuerySet[AuditRecord]) -> list[dict]:
    """Calls and tokens per day, oldest first, for the usage chart."""
    rows = (records.order_by().annotate(day=TruncDay("created")).values("day")
            .annotate(calls=Count("id"), prompt=Sum("prompt_tokens"),
                      completion=Sum("completion_tokens"),
                      errors=Count("id", filter=Q(status=AuditRecord.Status.ERROR)))
            .order_by("day"))
    return [{"day": row["day"].date(), "calls": row["calls"], "errors": row["errors"],
             "tokens": (row["prompt"] or 0) + (row["completion"] or 0)} for row in rows]
