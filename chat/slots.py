"""Fair share between clients: each client's answers in flight, in Redis.

Each client may have a limited number of answers in flight (admitted to the
llm queue or being written). Over the limit an answer waits in the client's
own line here, not in the shared Celery queue, so one client's flood never
sits in front of another client's question; when one of the client's
answers ends, the next in its line is admitted. A slot is a member of a
sorted set scored by the last sign of life (admission, then the lease
keeper's beat, chat/leases.py): a slot nobody has renewed for
CHAT_SLOT_STALE_SECONDS (a worker that died without ending its answer) is
taken back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from core import redis_client

SLOT_STALE_SECONDS = getattr(settings, "CHAT_SLOT_STALE_SECONDS", 120)
Unavailable = redis_client.Unavailable

# KEYS: in-flight set, waiting line. ARGV: limit, now, stale-before, [answer id].
# Adds the answer (if any) at the end of the line, then admits from the front
# while slots are free. Returns the admitted ids, then the answer's place in
# line (0: admitted or not given).
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if ARGV[4] then
  if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return {0} end
  redis.call('RPUSH', KEYS[2], ARGV[4])
end
local admitted = {}
local limit = tonumber(ARGV[1])
while redis.call('ZCARD', KEYS[1]) < limit do
  local id = redis.call('LPOP', KEYS[2])
  if not id then break end
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  table.insert(admitted, id)
end
local place = 0
if ARGV[4] and redis.call('ZSCORE', KEYS[1], ARGV[4]) == false then
  place = redis.call('LLEN', KEYS[2])
end
table.insert(admitted, place)
return admitted
"""

# KEYS: in-flight set, waiting line. ARGV: answer id. Frees its slot or its place.
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LREM', KEYS[2], 0, ARGV[1])
"""


def keys(schema: str) -> list[str]:
    """The client's in-flight set and waiting line."""
    return [f"inflight:{schema}", f"waiting:{schema}"]


@dataclass(frozen=True)
class Admission:
    admitted: list[int]  # answers to enqueue now (this one among them, or not)
    place: int  # this answer's place in its client's line; 0: admitted


@redis_client.unavailable_on_error
def admit(schema: str, message_id: int | None, *, limit: int) -> Admission:
    """Take a slot for the answer, or put it in its client's line; either
    way, also admit whoever waits while slots are free."""
    now = time.time()
    args = [limit, now, now - SLOT_STALE_SECONDS]
    if message_id is not None:
        args.append(message_id)
    result = redis_client.client().eval(_ADMIT, 2, *keys(schema), *args)
    return Admission(admitted=[int(i) for i in result[:-1]], place=int(result[-1]))


@redis_client.unavailable_on_error
def leave(schema: str, message_id: int, *, limit: int) -> list[int]:
    """The answer ended (or was stopped while waiting): free its slot and
    return the answers of the same client admitted in its place."""
    redis_client.client().eval(_LEAVE, 2, *keys(schema), message_id)
    return admit(schema, None, limit=limit).admitted


def beat(pipe, schema: str, message_id: int | str, now: float) -> None:
    """On the lease keeper's pipeline: the answer's slot is alive (never
    re-adds one that was freed)."""
    pipe.zadd(keys(schema)[0], {str(message_id): now}, xx=True)


@redis_client.unavailable_on_error
def place_in_line(schema: str, message_id: int) -> int:
    """1 for the next to be admitted; 0 if not waiting."""
    position = redis_client.client().lpos(keys(schema)[1], message_id)
    return 0 if position is None else position + 1
