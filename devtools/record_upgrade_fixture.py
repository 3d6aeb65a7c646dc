"""Record a release's database as an upgrade fixture (tests/upgrade/fixtures/).

Each release leaves a dump of a populated database made by that release's own
code, so the upgrade tier (tests/upgrade) migrates real rows of every past
version to HEAD. To add the next release's fixture, after tagging it:

  1. Copy the newest filler in tests/upgrade/fillers/ to
     release_<YYYY_MM_DD>.py and extend it with what the release added
     (new tables, new kinds of rows). It runs inside a checkout of that
     release and may only import that release's code.
  2. Record it (embedded PostgreSQL and Redis are started and erased):

       .venv/bin/python -m devtools.record_upgrade_fixture \\
           --release YYYY-MM-DD --commit <sha> \\
           --filler tests/upgrade/fillers/release_<YYYY_MM_DD>.py \\
           [--env TUNEAIBOT_AUDIT_KEYS=k1:...]   # settings that release needs

  3. Commit tests/upgrade/fixtures/<release>.dump and <release>.json, and
     add the release to CHANGELOG.md. The tier picks every fixture up by
     itself; nothing else needs changing.

The release's code runs from a temporary `git worktree add --detach` with this
checkout's virtualenv (each release so far installs into it; if one stops
doing so, give --python a virtualenv made from that release's pyproject.toml).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "upgrade" / "fixtures"
# Fixture databases are made with this key; the upgrade tier runs with it too
# (an operator's .env keeps its DJANGO_SECRET_KEY across an upgrade).
FIXTURE_SECRET_KEY = "upgrade-fixture-secret-key-not-for-any-real-deployment-0001"  # noqa: S105


def pg_binary(name: str) -> str:
    import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)


def count_rows(database_url: str) -> dict[str, dict[str, int]]:
    """Every table of every schema (public, the template, each client): its row count."""
    import psycopg
    from psycopg import sql

    counts: dict[str, dict[str, int]] = {}
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
            "('pg_catalog', 'information_schema') ORDER BY 1, 2")
        for schema, table in cursor.fetchall():
            cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)))
            counts.setdefault(schema, {})[table] = cursor.fetchone()[0]
    return counts


def create_database(name: str) -> str:
    """A fresh database on the embedded server (started if needed); its URL."""
    import pgserver

    from devtools import embedded

    embedded.postgres_url()
    server = pgserver.get_server(embedded.data_root() / "postgres")
    server.psql(f'DROP DATABASE IF EXISTS "{name}";')
    return embedded._ensure_database(server, name)  # noqa: SLF001 - same package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", required=True, help="the release's date, YYYY-MM-DD")
    parser.add_argument("--commit", required=True, help="the release's commit")
    parser.add_argument("--filler", required=True, type=Path)
    parser.add_argument("--env", action="append", default=[],
                        help="KEY=VALUE settings the release runs with (kept in the JSON)")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)

    os.environ.setdefault("TUNEAIBOT_DATA_DIR", ".data/record")
    os.environ["TUNEAIBOT_EPHEMERAL_SERVICES"] = "true"
    from devtools import embedded

    database_url = create_database("record_" + args.release.replace("-", "_"))
    redis_url = embedded.redis_url()
    release_env = dict(item.split("=", 1) for item in args.env)
    worktree = Path(tempfile.gettempdir()) / f"old-{args.commit[:7]}"
    if not worktree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.commit],
                       cwd=ROOT, check=True)
    media = Path(tempfile.mkdtemp(prefix="upgrade-media-"))
    facts_path = media / "facts.json"
    try:
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "DJANGO_SECRET_KEY": FIXTURE_SECRET_KEY, "TUNEAIBOT_DEV": "true",
               "MEDIA_ROOT": str(media), "UPGRADE_FIXTURE_FACTS": str(facts_path),
               "TUNEAIBOT_ENV_FILE": os.devnull, "PYTHONPATH": str(worktree),
               **release_env}
        subprocess.run([args.python, str(args.filler.resolve())], cwd=worktree, env=env,
                       check=True)
        FIXTURES.mkdir(parents=True, exist_ok=True)
        dump = FIXTURES / f"{args.release}.dump"
        subprocess.run([pg_binary("pg_dump"), "--format=custom", "--compress=9",
                        "--no-owner", "--no-privileges", f"--file={dump}",
                        f"--dbname={database_url}"], check=True)
        record = {
            "release": args.release, "commit": args.commit,
            "env": {"DJANGO_SECRET_KEY": FIXTURE_SECRET_KEY, **release_env},
            "facts": json.loads(facts_path.read_text()),
            "rows": count_rows(database_url),
        }
        (FIXTURES / f"{args.release}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"Recorded {dump.relative_to(ROOT)} ({dump.stat().st_size // 1024} KiB) and "
              f"its row counts.")
    finally:
        shutil.rmtree(media, ignore_errors=True)
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT,
                       check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
