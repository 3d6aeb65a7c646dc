"""Fixed-window rate limits in Redis (chat sending: per user and per client)."""

from __future__ import annotations

from core import redis_client


@redis_client.unavailable_on_error
def count_hits(windows: list[tuple[str, int]]) -> list[int]:
    """Count one hit in each window (key, seconds); returns the counts, in one
    round trip (which doubles as the check that Redis answers).

    A window opens with the first hit and lasts `seconds` (not aligned to the
    clock, so a burst across a minute boundary cannot pass twice the limit).
    Redis down: `redis_client.Unavailable`."""
    pipe = redis_client.client().pipeline(transaction=False)
    for name, seconds in windows:
        bucket = f"ratelimit:{name}"
        # Create the window with its expiry first (EXPIRE NX needs Redis 7).
        pipe.set(bucket, 0, ex=seconds, nx=True)
        pipe.incr(bucket)
    return pipe.execute()[1::2]
