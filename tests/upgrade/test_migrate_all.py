"""`migrate_all` on real upgrades: a client whose migration fails does not stop
the others, is named, exits non-zero, and a second run finishes the job; a
production instance without the settings this version needs is told which
and what to add before anything is migrated."""

from __future__ import annotations

import psycopg
import pytest

from tests.upgrade.databases import OLDEST, applied, drop, load, manage, release_env, restore


@pytest.fixture
def oldest(worker_env):
    """The 2026-11-30 release's database, restored; its settings."""
    record = load(OLDEST)
    database, url = restore(OLDEST)
    yield record, url, release_env(record, url, worker_env)
    drop(database)


def test_a_broken_client_is_named_and_the_others_are_migrated(oldest):
    record, url, env = oldest
    # globex's schema has a table in the way of a pending migration (chat 0011
    # creates chat_prompt), as a hand-made fix on a live server might leave.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE globex.chat_prompt (id integer)")

    first = manage(env, "migrate_all")

    assert first.returncode != 0, first.stdout
    assert "acme: " in first.stdout and "migration(s) applied" in first.stdout
    assert "globex: FAILED" in first.stdout
    assert "initech: " in first.stdout.split("globex: FAILED")[1], "it went on after globex"
    assert "1 schema(s) could not be migrated" in first.stderr
    assert "globex: " in first.stderr and 'relation "chat_prompt" already exists' in first.stderr
    head = applied(url, "acme")
    assert applied(url, "initech") == head, "initech is migrated as far as acme"
    assert ("chat", "0011_message_versions_and_prompts") in head
    assert ("chat", "0011_message_versions_and_prompts") not in applied(url, "globex")

    # The operator removes the obstacle and runs it again: only globex has work left.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE globex.chat_prompt")
    second = manage(env, "migrate_all")

    assert second.returncode == 0, second.stderr[-3000:]
    assert "acme: up to date" in second.stdout and "initech: up to date" in second.stdout
    assert "globex: " in second.stdout and "migration(s) applied" in second.stdout
    assert applied(url, "globex") == head
    audit = manage(env, "verify_audit", "globex")
    assert audit.returncode == 0, audit.stderr


def test_production_without_audit_keys_stops_before_migrating(oldest):
    """A 0.1.0 production .env has no TUNEAIBOT_AUDIT_KEYS. migrate_all names it
    and what to add, and changes nothing: the old chain is not re-signed with
    a key nobody keeps. Once the key is added, the chain is signed with it."""
    record, url, env = oldest
    production = {**env, "TUNEAIBOT_DEV": "false"}
    before = applied(url, "public"), applied(url, "acme")

    refused = manage(production, "migrate_all")

    assert refused.returncode != 0
    assert "TUNEAIBOT_AUDIT_KEYS is not set" in refused.stderr
    assert "TUNEAIBOT_AUDIT_KEYS=k1:" in refused.stderr, "it says what to add"
    assert (applied(url, "public"), applied(url, "acme")) == before, "nothing was migrated"

    production["TUNEAIBOT_AUDIT_KEYS"] = "k1:" + "s" * 48
    migrated = manage(production, "migrate_all")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    with psycopg.connect(url) as conn:
        keys = conn.execute("SELECT DISTINCT key_id FROM acme.compliance_auditrecord").fetchall()
    assert keys == [("k1",)]
    audit = manage(production, "verify_audit", "acme")
    assert audit.returncode == 0, audit.stderr


def test_development_without_audit_keys_keeps_a_verifiable_chain(oldest):
    """A development instance upgraded without the key (no bootstrap run) signs
    with the key derived from DJANGO_SECRET_KEY; when a key is added to .env
    later, the records signed before still verify and new ones use the key."""
    record, url, env = oldest
    migrated = manage(env, "migrate_all")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    with psycopg.connect(url) as conn:
        keys = conn.execute("SELECT DISTINCT key_id FROM acme.compliance_auditrecord").fetchall()
    assert keys == [("dev",)]

    with_key = {**env, "TUNEAIBOT_AUDIT_KEYS": "k1:" + "d" * 48}
    audit = manage(with_key, "verify_audit", "acme")
    assert audit.returncode == 0, audit.stderr
