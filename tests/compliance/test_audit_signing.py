"""The audit chain is keyed: write access to the database alone cannot rewrite
history undetected, and keys can be rotated."""

import datetime as dt
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import schema_context

from compliance import services
from compliance.models import AuditRecord

KEY_A = "a1:" + "A" * 40
KEY_B = "b2:" + "B" * 40


def add_calls(count: int) -> list[AuditRecord]:
    return [services.append_audit(kind="chat", endpoint="https://api.openai.com/v1",
                                  model="gpt-4o-mini", status="ok", user_id=1,
                                  user_email="someone@example.com", prompt_tokens=10,
                                  completion_tokens=5) for _ in range(count)]


def rewrite(record: AuditRecord, *, digest) -> None:
    """What someone with database write access but no key does: change a record,
    compute a fresh hash by every public recipe, and re-link all later records."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # past the trigger
        previous = record.prev_hash
        for later in AuditRecord.objects.filter(seq__gte=record.seq).order_by("seq"):
            if later.seq == record.seq:
                later.user_email = "nobody@example.com"
            later.prev_hash = previous
            later.hash = digest(services.canonical_bytes(later))
            cursor.execute("UPDATE compliance_auditrecord SET user_email = %s, prev_hash = %s, "
                           "hash = %s WHERE id = %s",
                           [later.user_email, later.prev_hash, later.hash, later.pk])
            previous = later.hash


def plain_sha256(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def legacy_sha256(canonical: bytes) -> str:
    """The unkeyed recipe the chain used before it was signed."""
    payload = json.loads(canonical)
    payload.pop("key_id")
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


@pytest.mark.parametrize("digest", [plain_sha256, legacy_sha256], ids=["sha256", "legacy"])
@override_settings(AUDIT_SIGNING_KEYS=[KEY_A])
def test_a_rewritten_and_relinked_history_is_detected_without_the_key(make_client, digest):
    result = make_client("sig")
    with schema_context(result.client.schema_name):
        records = add_calls(4)
        assert services.verify_chain().ok
        rewrite(records[1], digest=digest)

        check = services.verify_chain()

    assert check.broken_seq == 2 and "changed" in check.reason
    with pytest.raises(CommandError, match=r"BROKEN at record #2"):
        call_command("verify_audit", result.client.slug)


def test_records_name_their_key_and_the_hash_is_an_hmac(make_client):
    result = make_client("sig")
    with override_settings(AUDIT_SIGNING_KEYS=[KEY_A]), schema_context(
            result.client.schema_name):
        [record] = add_calls(1)

    assert record.key_id == "a1"
    assert record.hash != plain_sha256(services.canonical_bytes(record))
    import hmac

    assert record.hash == hmac.new(b"A" * 40, services.canonical_bytes(record),
                                   hashlib.sha256).hexdigest()


def test_rotation_keeps_old_records_verifiable_and_a_dropped_key_is_named(make_client):
    result = make_client("sig")
    with schema_context(result.client.schema_name):
        with override_settings(AUDIT_SIGNING_KEYS=[KEY_A]):
            add_calls(2)
        with override_settings(AUDIT_SIGNING_KEYS=[KEY_B, KEY_A]):  # rotated: B signs now
            newer = add_calls(2)
            rotated = services.verify_chain()
        with override_settings(AUDIT_SIGNING_KEYS=[KEY_B]):  # A dropped by mistake
            dropped = services.verify_chain()

    assert [r.key_id for r in newer] == ["b2", "b2"]
    assert rotated.ok and rotated.checked == 4
    assert dropped.broken_seq == 1 and "'a1'" in dropped.reason


@override_settings(AUDIT_SIGNING_KEYS=["no-separator"])
def test_a_malformed_key_setting_is_a_clear_error(make_client):
    from django.core.exceptions import ImproperlyConfigured

    result = make_client("sig")
    with schema_context(result.client.schema_name), pytest.raises(
            ImproperlyConfigured, match="id:secret"):
        add_calls(1)


def test_created_is_covered_by_the_signature(make_client):
    result = make_client("sig")
    with schema_context(result.client.schema_name):
        [record] = add_calls(1)
        later = record.created + dt.timedelta(days=1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("UPDATE compliance_auditrecord SET created = %s WHERE id = %s",
                           [later, record.pk])
        check = services.verify_chain()
    assert check.broken_seq == 1


def _make_legacy(records: list[AuditRecord]) -> None:
    """Turn records into what the unkeyed chain of earlier versions wrote."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        previous = services.GENESIS
        for record in records:
            record.key_id, record.prev_hash = "", previous
            record.hash = legacy_sha256(services.canonical_bytes(record))
            cursor.execute("UPDATE compliance_auditrecord SET key_id = '', prev_hash = %s, "
                           "hash = %s WHERE id = %s", [record.prev_hash, record.hash, record.pk])
            previous = record.hash


def _run_signing_migration() -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("compliance.migrations.0003_audit_signed_with_hmac")
    with connection.schema_editor() as editor:
        migration.sign_existing(apps, editor)


def test_the_migration_signs_an_intact_legacy_chain(make_client):
    result = make_client("sig")
    with schema_context(result.client.schema_name):
        _make_legacy(add_calls(3))
        assert services.verify_chain().reason == "it carries no signature"

        _run_signing_migration()

        assert services.verify_chain().ok
        from compliance import audit_signing

        key_ids = set(AuditRecord.objects.values_list("key_id", flat=True))
        assert key_ids == {audit_signing.current_key().key_id}


def test_the_migration_leaves_a_broken_legacy_chain_broken(make_client):
    result = make_client("sig")
    with schema_context(result.client.schema_name):
        records = add_calls(3)
        _make_legacy(records)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("UPDATE compliance_auditrecord SET prompt_tokens = 1 WHERE seq = 2")

        _run_signing_migration()

        check = services.verify_chain()
    assert check.broken_seq == 1 and check.reason == "it carries no signature"
