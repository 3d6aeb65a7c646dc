"""Readiness of the outside worlds this app cannot work without."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def status() -> dict[str, str]:
    return {
        "database": "ok" if database_ok() else "down",
        "redis": "ok" if redis_ok() else "down",
    }
