"""The audit trail: append-only, hash-chained per client, verified by a command
that names the first broken record; admins filter it and export CSV."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django_tenants.utils import schema_context

from compliance import services
from compliance.models import AuditRecord
from tests.support.accounts import PASSWORD, signed_in_client


def add_calls(count: int, **overrides) -> list[AuditRecord]:
    fields = {"kind": "chat", "endpoint": "https://api.openai.com/v1", "model": "gpt-4o-mini",
              "status": "ok", "user_id": 1, "user_email": "admin@example.com",
              "conversation_id": 7, "prompt_tokens": 100, "completion_tokens": 20,
              "latency_ms": 350, "redactions": {"EMAIL_ADDRESS": 1}}
    return [services.append_audit(**{**fields, **overrides}) for _ in range(count)]


def tamper(sql: str, params) -> None:
    """What someone with database access could do, bypassing the trigger."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_chain_verifies_and_the_command_says_so(make_client, capsys):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        records = add_calls(5)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[1].prev_hash == records[0].hash

    call_command("verify_audit", result.client.slug)

    assert "verified: 5 record(s), chain intact" in capsys.readouterr().out


def test_a_changed_record_is_named(make_client):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        add_calls(5)
        tamper("UPDATE compliance_auditrecord SET completion_tokens = 2 WHERE seq = 3", [])

    with pytest.raises(CommandError, match=r"BROKEN at record #3: its content was changed"):
        call_command("verify_audit", result.client.slug)


def test_a_deleted_record_is_named(make_client):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        add_calls(4)
        tamper("DELETE FROM compliance_auditrecord WHERE seq = 2", [])

    with pytest.raises(CommandError, match=r"BROKEN at record #3: record 2 is missing"):
        call_command("verify_audit", result.client.slug)


def test_a_rewritten_record_with_a_fresh_hash_breaks_the_next_link(make_client):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        records = add_calls(3)
        forged = records[1]
        forged.prompt_tokens = 1
        tamper("UPDATE compliance_auditrecord SET prompt_tokens = 1, hash = %s WHERE seq = 2",
               [services.record_hash(forged)])

        check = services.verify_chain()
    assert check.broken_seq == 3 and "link" in check.reason


def test_updates_and_deletes_are_refused_by_the_database(make_client):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        add_calls(1)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditRecord.objects.update(status="error")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditRecord.objects.all().delete()
        assert AuditRecord.objects.get().status == "ok"


def test_chains_are_per_client(make_client):
    first, second = make_client("audit"), make_client("audit")
    with schema_context(first.client.schema_name):
        add_calls(3)
    with schema_context(second.client.schema_name):
        [record] = add_calls(1)
    assert record.seq == 1 and record.prev_hash == services.GENESIS


def test_admin_filters_sees_chart_and_exports_csv(make_client, host_client):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        from tenants.members.models import User

        admin = User.objects.get(email="admin@example.com")
        add_calls(3, user_id=admin.pk)
        add_calls(2, user_id=999, user_email="other@example.com", status="error",
                  error_kind="timeout")
    browser = signed_in_client(result)

    page = browser.get("/settings/audit/").content.decode()
    errors = browser.get("/settings/audit/?status=error").content.decode()
    export = browser.get("/settings/audit/?status=error&format=csv")

    assert "5 record(s)" in page and 'class="bar"' in page and "EMAIL_ADDRESS: 1" in page
    assert "2 record(s)" in errors and "timeout" in errors
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert export["Content-Type"] == "text/csv"
    assert [r["seq"] for r in rows] == ["4", "5"]
    assert {r["user_email"] for r in rows} == {"other@example.com"}
    assert rows[0]["prompt_tokens"] == "100" and rows[0]["redactions"] == "EMAIL_ADDRESS=1"


def test_audit_page_is_for_tenant_admins_only(make_client, host_client):
    result = make_client("audit")
    with schema_context(result.client.schema_name):
        from tenants.members.services import create_member

        create_member(email="worker@example.com", password=PASSWORD)
    browser = signed_in_client(result, "worker@example.com")
    assert browser.get("/settings/audit/").status_code == 403
    assert browser.get("/settings/data-controls/").status_code == 403
