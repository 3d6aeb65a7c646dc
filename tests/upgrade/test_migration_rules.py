"""Migrations that would lock a big client's table for long are refused.

The tables that grow with use (messages, conversations, passages, audit
records) get indexes only concurrently (`AddIndexConcurrently` in a migration
with `atomic = False`), never a plain AddIndex / index-creating AddField or
AddConstraint, which hold a lock that blocks writes for as long as the
build takes (README, "Upgrading"; bench/migrations.py measures it). The
migrations released before the rule are listed and left alone.
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

BIG_TABLES = {("chat", "message"), ("chat", "conversation"), ("knowledge", "knowledgechunk"),
              ("chat", "knowledgechunk"), ("compliance", "auditrecord")}
# Released before the rule (0.2.0 and earlier), already applied everywhere.
GRANDFATHERED = {("chat", "0001_initial"), ("chat", "0002_message_citations"),
                 ("chat", "0003_knowledge"), ("chat", "0008_cjk_search"),
                 ("compliance", "0001_initial"), ("compliance", "0003_audit_signed_with_hmac"),
                 ("knowledge", "0001_initial")}


def problems() -> list[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if (app, name) in GRANDFATHERED:
            continue
        created = {op.name.lower() for op in migration.operations
                   if isinstance(op, migrations.CreateModel)}
        for op in migration.operations:
            model = getattr(op, "model_name", None)
            if model is None or (app, model) not in BIG_TABLES or model in created:
                continue
            where = f"{app}.{name}: {op.describe()}"
            if isinstance(op, AddIndexConcurrently):
                if migration.atomic:
                    found.append(f"{where} needs `atomic = False` on the migration")
            elif isinstance(op, migrations.AddIndex | migrations.AddConstraint):
                found.append(f"{where} blocks writes while it builds: use "
                             "AddIndexConcurrently in a non-atomic migration")
            elif isinstance(op, migrations.AddField | migrations.AlterField) and (
                    op.field.db_index or isinstance(op.field, models.ForeignKey)
                    or op.field.unique):
                found.append(f"{where} builds an index (or validates a key) under a lock: "
                             "add the column, then the index concurrently (see chat 0011)")
    return found


def test_no_migration_locks_a_big_table_for_long():
    assert problems() == []
