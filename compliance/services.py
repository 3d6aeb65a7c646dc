"""Writes for compliance: data controls, notice acceptance, the signed
(HMAC-chained) audit trail, purge records."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext

from compliance import audit_signing, selectors
from compliance.entities import SUPPORTED_ENTITIES, default_entities_for
from compliance.models import AuditRecord, DataControls, NoticeAcceptance, PurgeRecord
from tenants.db import current_schema

GENESIS = "0" * 64


class QuotaReached(Exception):
    """Sending is refused: the month's token quota is used up."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def update_data_controls(*, controls: DataControls, **fields) -> DataControls:
    entities = fields.get("redaction_entities")
    if entities is not None:
        unknown = set(entities) - set(SUPPORTED_ENTITIES)
        if unknown:
            raise ValueError(f"Unknown kinds of data: {', '.join(sorted(unknown))}.")
    if "redaction_terms" in fields:
        fields["redaction_terms"] = clean_terms(fields["redaction_terms"])
    for name, value in fields.items():
        setattr(controls, name, value)
    controls.full_clean()
    controls.save()
    return controls


def apply_country_defaults(*, country: str) -> DataControls:
    """Set this client's kinds of data to redact to its country's defaults
    (compliance.entities.default_entities_for); run when a client is created."""
    return update_data_controls(controls=selectors.get_data_controls(),
                                redaction_entities=default_entities_for(country))


def clean_terms(terms) -> list[str]:
    if isinstance(terms, str):
        terms = terms.splitlines()
    seen: dict[str, str] = {}
    for term in terms:
        term = " ".join(str(term).split())[:200]
        if term and term.lower() not in seen:
            seen[term.lower()] = term
    return list(seen.values())


def accept_notice(*, user) -> NoticeAcceptance:
    version = selectors.get_data_controls().notice_version
    acceptance, _ = NoticeAcceptance.objects.get_or_create(user=user, version=version)
    return acceptance


def check_quota(*, user_id: int) -> None:
    """Raise QuotaReached with a sentence for the employee when a quota is used up."""
    controls = selectors.get_data_controls()
    if controls.monthly_token_quota is not None:
        usage = selectors.client_usage(controls=controls)
        if usage.reached:
            raise QuotaReached(gettext(
                "Your company has used its monthly allowance of %(quota)s tokens "
                "(%(used)s used), so new messages cannot be sent until the 1st of "
                "next month. Ask your workspace admin to raise the quota.") % _usage(usage))
    if controls.user_monthly_token_quota is not None:
        usage = selectors.user_usage(user_id=user_id, controls=controls)
        if usage.reached:
            raise QuotaReached(gettext(
                "You have used your monthly allowance of %(quota)s tokens "
                "(%(used)s used), so you cannot send new messages until the 1st of "
                "next month. Ask your workspace admin if you need more.") % _usage(usage))


def _usage(usage) -> dict[str, str]:
    return {"quota": formats.number_format(usage.quota, force_grouping=True),
            "used": formats.number_format(usage.used, force_grouping=True)}


# --- Audit trail ---------------------------------------------------------------------

CHAINED_FIELDS = ("seq", "created", "kind", "user_id", "user_email", "conversation_id",
                  "endpoint", "model", "prompt_tokens", "completion_tokens", "latency_ms",
                  "status", "error_kind", "redactions", "prev_hash", "key_id")


def canonical_bytes(record: AuditRecord) -> bytes:
    """What a record's signature covers: every field and the previous link."""
    payload = {}
    for name in CHAINED_FIELDS:
        value = getattr(record, name)
        if name == "created":
            value = value.astimezone(dt.UTC).isoformat()
        payload[name] = value
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def record_hash(record: AuditRecord) -> str:
    """The record's HMAC under the key it names (see compliance.audit_signing)."""
    key = audit_signing.key_named(record.key_id)
    if key is None:
        raise ValueError(f"No audit key named {record.key_id!r} is configured.")
    return audit_signing.sign(key, canonical_bytes(record))


def append_audit(*, kind: str, endpoint: str, model: str, status: str,
                 user_id: int | None = None, user_email: str = "",
                 conversation_id: int | None = None, prompt_tokens: int | None = 0,
                 completion_tokens: int | None = 0, latency_ms: int = 0,
                 error_kind: str = "", redactions: dict[str, int] | None = None,
                 ) -> AuditRecord:
    """Append one record to this client's chain. Concurrent writers of one client
    take turns (an advisory lock per schema), so the chain never forks."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           [f"compliance-audit:{current_schema()}"])
        last = AuditRecord.objects.order_by("-seq").only("seq", "hash").first()
        record = AuditRecord(
            seq=(last.seq + 1) if last else 1,
            created=timezone.now(), kind=kind, user_id=user_id, user_email=user_email or "",
            conversation_id=conversation_id, endpoint=endpoint, model=model,
            prompt_tokens=prompt_tokens or 0, completion_tokens=completion_tokens or 0,
            latency_ms=max(0, int(latency_ms)), status=status, error_kind=error_kind,
            redactions=dict(sorted((redactions or {}).items())),
            prev_hash=last.hash if last else GENESIS,
            key_id=audit_signing.current_key().key_id,
        )
        record.hash = record_hash(record)
        record.save(force_insert=True)
    return record


@dataclass(frozen=True)
class ChainCheck:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain() -> ChainCheck:
    """Walk this client's chain in order; report the first record that does not fit."""
    previous_hash, expected_seq, checked = GENESIS, 1, 0
    for record in AuditRecord.objects.order_by("seq").iterator(chunk_size=2000):
        if record.seq != expected_seq:
            return ChainCheck(checked, record.seq,
                              f"record {expected_seq} is missing (next is {record.seq})")
        if record.prev_hash != previous_hash:
            return ChainCheck(checked, record.seq,
                              "its link to the previous record does not match")
        key = audit_signing.key_named(record.key_id)
        if key is None:
            return ChainCheck(checked, record.seq,
                              f"it is signed with key {record.key_id!r}, which is not among "
                              "TUNEAIBOT_AUDIT_KEYS (keep retired keys in the list)"
                              if record.key_id else "it carries no signature")
        if not audit_signing.matches(key, canonical_bytes(record), record.hash):
            return ChainCheck(checked, record.seq,
                              "its content was changed after it was written")
        previous_hash, expected_seq, checked = record.hash, expected_seq + 1, checked + 1
    return ChainCheck(checked)


def record_purge(*, conversation_cutoff, file_cutoff, deleted: dict[str, int]) -> PurgeRecord:
    return PurgeRecord.objects.create(conversation_cutoff=conversation_cutoff,
                                      file_cutoff=file_cutoff, deleted=deleted)
