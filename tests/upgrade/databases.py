"""Restoring a release's fixture into a fresh database, and running our
management commands against it in their own processes (as an operator would)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests import conftest as harness

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))
OLDEST = Path(__file__).parent / "fixtures" / "2026-11-30.json"
# Generated into a development .env; an old .env lacks the newer ones.
SECRETS = {"DJANGO_SECRET_KEY", "TUNEAIBOT_ENCRYPTION_KEYS", "TUNEAIBOT_AUDIT_KEYS"}


def pg_binary(name: str) -> str:
    from devtools.record_upgrade_fixture import pg_binary as embedded_binary

    path = embedded_binary(name)
    if Path(path).exists():
        return path
    found = shutil.which(name)
    assert found, f"{name} is needed to restore the upgrade fixtures"
    return found


def url_for(database: str) -> str:
    parts = urlsplit(harness.test_database_url())
    return urlunsplit(parts._replace(path="/" + database))


def restore(fixture: Path) -> tuple[str, str]:
    """The fixture's dump in a new database: (database name, URL)."""
    database = f"upgrade_{fixture.stem.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(harness.test_database_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url = url_for(database)
    subprocess.run([pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                    f"--dbname={url}", str(fixture.with_suffix(".dump"))], check=True)
    return database, url


def drop(database: str) -> None:
    with psycopg.connect(harness.test_database_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database)))


def release_env(record: dict, url: str, base_env: dict[str, str]) -> dict[str, str]:
    """The settings the release ran with, as its operator's .env kept them:
    nothing from this checkout's .env (which has the newer settings)."""
    env = {key: value for key, value in base_env.items() if key not in SECRETS}
    host = record["facts"]["clients"][0]["host"]
    env.update({"DATABASE_URL": url, "TUNEAIBOT_ENV_FILE": os.devnull, "TUNEAIBOT_DEV": "true",
                "BASE_DOMAIN": host.split(".", 1)[1], **record["env"]})
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=harness.ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def load(fixture: Path) -> dict:
    return json.loads(fixture.read_text())


def applied(url: str, schema: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(sql.SQL("SELECT app, name FROM {}.django_migrations").format(
            sql.Identifier(schema))).fetchall()
    return set(rows)
