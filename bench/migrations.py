"""The longest lock a migration takes on a big client, upgrading to HEAD.

    python bench/migrations.py [--messages 1000000] [--fixture 2026-11-30]

Restores a release's upgrade fixture (tests/upgrade/fixtures/, the oldest by
default: every later migration runs), gives its client `acme` N messages (in
conversations of 40, questions and answers interleaved as the app writes
them, a tenth of them Korean), then runs `manage.py migrate_all` as an
operator would while a second connection watches:

- pg_locks every 10 ms: each lock the migrating sessions hold on a table of
  `acme` that blocks writes (Share, ShareRowExclusive, Exclusive,
  AccessExclusive) or reads too (AccessExclusive), from first to last seen,
  with the statement that took it;
- a writer: every 50 ms it updates one message of `acme` (then rolls back),
  so the longest wait is what an employee's save would feel.

Runs against its own embedded PostgreSQL (.data/bench-migrations, erased at
the end) unless DATABASE_URL is set. Target: no lock that blocks writes
longer than 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITE_BLOCKING = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
APP_NAME = "bench-migrate"
SCHEMA = "acme"


@dataclass
class Held:
    first: float
    last: float
    statement: str  # what the session ran when the lock was first seen
    after: str  # the client's last committed migration then (the next one holds it)


@dataclass
class Watch:
    open: dict[tuple, Held] = field(default_factory=dict)
    closed: list[tuple[tuple, Held]] = field(default_factory=list)
    probe_waits: list[tuple[float, float]] = field(default_factory=list)  # (at, seconds)
    stop: threading.Event = field(default_factory=threading.Event)


def watch_locks(url: str, watch: Watch) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not watch.stop.is_set():
            rows = conn.execute(
                "SELECT l.pid, c.relname, l.mode, left(a.query, 140) "
                "FROM pg_locks AS l JOIN pg_class AS c ON c.oid = l.relation "
                "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "JOIN pg_stat_activity AS a ON a.pid = l.pid "
                "WHERE l.granted AND n.nspname = %s AND a.application_name = %s "
                "AND c.relkind IN ('r', 'p') AND l.mode = ANY(%s)",
                [SCHEMA, APP_NAME, list(WRITE_BLOCKING)]).fetchall()
            done = conn.execute(
                f"SELECT app || '.' || name FROM {SCHEMA}.django_migrations "  # noqa: S608
                "ORDER BY id DESC LIMIT 1").fetchone()
            now = time.monotonic()
            seen = set()
            for pid, relname, mode, query in rows:
                key = (pid, relname, mode)
                seen.add(key)
                if key in watch.open:
                    watch.open[key].last = now
                else:
                    watch.open[key] = Held(now, now, " ".join(query.split()),
                                           done[0] if done else "")
            for key in [k for k in watch.open if k not in seen]:
                watch.closed.append((key, watch.open.pop(key)))
            time.sleep(0.01)
    watch.closed.extend(watch.open.items())


def probe_writes(url: str, watch: Watch, message_id: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '30s'")
        while not watch.stop.is_set():
            start = time.monotonic()
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute(f"UPDATE {SCHEMA}.chat_message SET attempts = attempts "  # noqa: S608
                                 "WHERE id = %s", [message_id])
            except psycopg.errors.LockNotAvailable:
                pass  # waited 30 s and gave up: counted, and the next write waits on
            watch.probe_waits.append((start, time.monotonic() - start))
            time.sleep(0.05)


def longest_stretch(waits: list[tuple[float, float]]) -> float:
    """The longest time writes were blocked: a wait that gave up (30 s) and
    the waits after it, up to one that got through, are one stretch."""
    longest = current = 0.0
    for _, seconds in waits:
        current += seconds
        longest = max(longest, current)
        if seconds < 29.5:
            current = 0.0
    return longest


def fill_messages(url: str, total: int) -> int:
    """N messages in `acme` (conversations of 40); returns one message id."""
    import psycopg

    per_conversation = 40
    conversations = max(1, total // per_conversation)
    with psycopg.connect(url, autocommit=True) as conn:
        user_id = conn.execute(f"SELECT min(id) FROM {SCHEMA}.members_user").fetchone()[0]  # noqa: S608
        conn.execute(
            f"INSERT INTO {SCHEMA}.chat_conversation (user_id, title, created, updated) "  # noqa: S608
            "SELECT %s, 'Bench conversation ' || g, now(), now() "
            "FROM generate_series(1, %s::integer) AS g", [user_id, conversations])
        first = conn.execute(
            f"SELECT max(id) - %s + 1 FROM {SCHEMA}.chat_conversation",  # noqa: S608
            [conversations]).fetchone()[0]
        common = ("status, superseded, model, offline, attempts, error, error_detail, citations, "
                  "feedback_comment, created, updated")
        values = "'done', false, 'gpt-4o-mini', false, 1, '', '', '[]', '', now(), now()"
        for turn in range(per_conversation // 2):
            conn.execute(
                f"INSERT INTO {SCHEMA}.chat_message (conversation_id, role, content, {common}) "  # noqa: S608
                f"SELECT c, 'user', CASE WHEN c %% 10 = 0 THEN '휴가 규정에 대해 질문 ' || c "
                f"ELSE 'How do I file the expense report for trip ' || c || ' turn {turn}?' "
                f"END, {values} FROM generate_series(%s::bigint, %s::bigint) AS c",
                [first, first + conversations - 1])
            conn.execute(
                f"INSERT INTO {SCHEMA}.chat_message (conversation_id, role, content, "  # noqa: S608
                f"reply_to_id, {common}) "
                f"SELECT q.conversation_id, 'assistant', 'File it in the finance portal within "
                f"30 days; your manager approves it. See the handbook, section ' || q.id, "
                f"q.id, {values} FROM {SCHEMA}.chat_message AS q "
                f"WHERE q.role = 'user' AND q.conversation_id >= %s "
                f"AND q.id > (SELECT coalesce(max(id), 0) FROM {SCHEMA}.chat_message "
                f"WHERE role = 'assistant')", [first])
            print(f"  {(turn + 1) * 2 * conversations:,} messages", end="\r", flush=True)
        conn.execute(f"ANALYZE {SCHEMA}.chat_message")
        count = conn.execute(f"SELECT count(*) FROM {SCHEMA}.chat_message").fetchone()[0]  # noqa: S608
        print(f"  {count:,} messages in {SCHEMA}        ")
        return conn.execute(f"SELECT max(id) FROM {SCHEMA}.chat_message").fetchone()[0]  # noqa: S608


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--fixture", default="2026-11-30")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    os.environ.setdefault("TUNEAIBOT_DATA_DIR", ".data/bench-migrations")
    os.environ["TUNEAIBOT_EPHEMERAL_SERVICES"] = "true"
    from devtools import embedded
    from devtools.record_upgrade_fixture import create_database, pg_binary

    fixture = ROOT / "tests" / "upgrade" / "fixtures" / f"{args.fixture}.json"
    record = json.loads(fixture.read_text())
    url = create_database("bench_migrations")
    subprocess.run([pg_binary("pg_restore"), "--no-owner", "--no-privileges",
                    "--exit-on-error", f"--dbname={url}", str(fixture.with_suffix(".dump"))],
                   check=True)
    started = time.monotonic()
    print(f"Filling {SCHEMA} with {args.messages:,} messages (release {args.fixture})...")
    probe_id = fill_messages(url, args.messages)
    print(f"  filled in {time.monotonic() - started:.0f} s")

    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": embedded.redis_url(),
           "PGAPPNAME": APP_NAME, "TUNEAIBOT_ENV_FILE": os.devnull, "TUNEAIBOT_DEV": "true",
           **record["env"]}
    watch = Watch()
    threads = [threading.Thread(target=watch_locks, args=(url, watch), daemon=True),
               threading.Thread(target=probe_writes, args=(url, watch, probe_id), daemon=True)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    migrate = subprocess.run([sys.executable, "manage.py", "migrate_all"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    watch.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    print(migrate.stdout[-2000:])
    if migrate.returncode != 0:
        print(migrate.stderr[-4000:], file=sys.stderr)
        return 1

    held = sorted(((h.last - h.first, key, h.statement, h.after) for key, h in watch.closed),
                  reverse=True)
    print(f"migrate_all took {elapsed:.1f} s. Longest locks on {SCHEMA}'s tables that block "
          "writes (AccessExclusive blocks reads too):")
    for seconds, (_pid, relname, mode), statement, after in held[:8]:
        print(f"  {seconds:7.3f} s  {mode:21} {relname:22} after {after}: {statement[:70]}")
    longest_read = max((s for s, key, _, _ in held if key[2] == "AccessExclusiveLock"),
                       default=0)
    longest_write = held[0][0] if held else 0.0
    probe = longest_stretch(watch.probe_waits)
    print(f"Longest lock blocking writes: {longest_write:.3f} s; blocking reads: "
          f"{longest_read:.3f} s; longest wait of a concurrent write: {probe:.3f} s "
          f"({len(watch.probe_waits)} writes during the migration).")
    if args.json:
        args.json.write_text(json.dumps({
            "messages": args.messages, "fixture": args.fixture, "migrate_seconds": elapsed,
            "longest_write_blocking_s": longest_write, "longest_read_blocking_s": longest_read,
            "longest_probe_wait_s": probe,
            "top": [{"seconds": s, "table": k[1], "mode": k[2], "statement": st, "after": a}
                    for s, k, st, a in held[:8]]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
