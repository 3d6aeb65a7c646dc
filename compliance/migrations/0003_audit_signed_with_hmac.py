"""The audit chain is signed with a key kept outside the database (HMAC).

Records written before this migration were chained with plain SHA-256, which
anyone with write access could recompute. If that chain is intact, it is
signed afresh with the current key (the append-only trigger is paused for
this one rewrite); a chain that is already broken is left as it is, so
`verify_audit` keeps naming the record where it breaks.
"""

import datetime as dt
import hashlib
import json

from django.db import migrations, models

LEGACY_FIELDS = ("seq", "created", "kind", "user_id", "user_email", "conversation_id",
                 "endpoint", "model", "prompt_tokens", "completion_tokens", "latency_ms",
                 "status", "error_kind", "redactions", "prev_hash")
GENESIS = "0" * 64


def _legacy_hash(record) -> str:
    payload = {}
    for name in LEGACY_FIELDS:
        value = getattr(record, name)
        if name == "created":
            value = value.astimezone(dt.UTC).isoformat()
        payload[name] = value
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign_existing(apps, schema_editor):
    from compliance import audit_signing
    from compliance.services import canonical_bytes

    AuditRecord = apps.get_model("compliance", "AuditRecord")
    records = list(AuditRecord.objects.order_by("seq"))
    if not records:
        return
    previous = GENESIS
    for expected_seq, record in enumerate(records, start=1):
        if (record.seq != expected_seq or record.prev_hash != previous
                or _legacy_hash(record) != record.hash):
            return  # already broken: leave it for verify_audit to report
        previous = record.hash
    key = audit_signing.current_key()
    table = AuditRecord._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER compliance_auditrecord_append_only")
        previous = GENESIS
        for record in records:
            record.prev_hash, record.key_id = previous, key.key_id
            record.hash = audit_signing.sign(key, canonical_bytes(record))
            cursor.execute(f"UPDATE {table} SET prev_hash = %s, key_id = %s, hash = %s "  # noqa: S608
                           "WHERE id = %s", [record.prev_hash, record.key_id, record.hash,
                                             record.id])
            previous = record.hash
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER compliance_auditrecord_append_only")


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_seed_overview_and_append_only_audit")]

    operations = [
        migrations.AddField(
            model_name="auditrecord", name="key_id",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(sign_existing, migrations.RunPython.noop),
    ]
