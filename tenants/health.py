"""Readiness of the outside worlds this app cannot work without.

Checked outside the request's own database connection and pool, each within a
bounded time, so /healthz answers promptly even while PostgreSQL hangs.
"""

from __future__ import annotations

import concurrent.futures

import psycopg
from django.conf import settings

from core import redis_client

CHECK_SECONDS = 1.5
_checks = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def database_ok() -> bool:
    try:
        with psycopg.connect(settings.DATABASE_URL, connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def redis_ok() -> bool:
    return redis_client.ping(timeout=1)


def status() -> dict[str, str]:
    """"ok" or "down" per part; a part that does not answer in CHECK_SECONDS is down."""
    futures = {"database": _checks.submit(database_ok), "redis": _checks.submit(redis_ok)}
    done, _ = concurrent.futures.wait(futures.values(), timeout=CHECK_SECONDS)
    return {name: "ok" if future in done and future.result() else "down"
            for name, future in futures.items()}
