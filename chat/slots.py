"""Fair shares of a client's answers in flight, in Redis.

Each client may have a limited number of answers in flight (admitted to the
llm queue or being written), and each person within it a smaller share of
those (by default half, at least one), so one employee's flood always leaves
room for a colleague. Over either limit an answer waits in the client's own
line here, not in the shared Celery queue, so one client's flood never sits
in front of another client's question. The line is served round-robin
between people: an answer's turn is its number among its person's answers
(in flight and waiting), earliest first among equals, skipping people
already at their share, so a colleague's first question never waits behind
another person's tenth.

A slot is a member of a sorted set scored by the last sign of life
(admission, then the lease keeper's beat, chat/leases.py): a slot nobody has
renewed for CHAT_SLOT_STALE_SECONDS (a worker that died without ending its
answer) is taken back. Every change runs as one Lua script, so two web
processes admitting at once never exceed a limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from core import redis_client

SLOT_STALE_SECONDS = getattr(settings, "CHAT_SLOT_STALE_SECONDS", 120)
Unavailable = redis_client.Unavailable

# Shared by the scripts below. KEYS: in-flight set, waiting line, owners
# (answer -> person), counts (person -> answers in flight).
_COMMON = """
local function drop_slot(id)
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local person = redis.call('HGET', KEYS[3], id)
    if person and redis.call('HINCRBY', KEYS[4], person, -1) <= 0 then
      redis.call('HDEL', KEYS[4], person)
    end
  end
  redis.call('HDEL', KEYS[3], id)
end
-- The line in serving order, round by round: a person's answer is in the
-- round of its number among that person's answers in flight and waiting
-- (someone with none in flight has their first waiting answer in round 1,
-- someone with two in flight in round 3); within a round, in order of
-- arrival. Returns {id, person} pairs.
local function serving_order()
  local line = redis.call('LRANGE', KEYS[2], 0, -1)
  local seen, rounds, last = {}, {}, 0
  for _, id in ipairs(line) do
    local person = redis.call('HGET', KEYS[3], id) or ''
    local round = (seen[person] or tonumber(redis.call('HGET', KEYS[4], person) or '0')) + 1
    seen[person] = round
    if round > last then last = round end
    rounds[round] = rounds[round] or {}
    table.insert(rounds[round], {id, person})
  end
  local order = {}
  for round = 1, last do  -- rounds may be missing (everyone has answers in flight)
    for _, entry in ipairs(rounds[round] or {}) do table.insert(order, entry) end
  end
  return order
end
"""

# ARGV: client limit, person limit, now, stale-before, [answer id, person].
# Takes back stale slots, adds the answer (if any) at the end of the line,
# then admits in serving order while the client has free slots, skipping
# people at their share. Returns the admitted ids, then the answer's place in
# line (0: admitted or not given).
_ADMIT = _COMMON + """
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])) do
  drop_slot(id)
end
local own = ARGV[5]
if own then
  if redis.call('ZSCORE', KEYS[1], own) then return {0} end
  if not redis.call('LPOS', KEYS[2], own) then
    redis.call('RPUSH', KEYS[2], own)
    redis.call('HSET', KEYS[3], own, ARGV[6])
  end
end
local client_limit, person_limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local admitted = {}
local free = client_limit - redis.call('ZCARD', KEYS[1])
if free > 0 and redis.call('LLEN', KEYS[2]) > 0 then
  local counts = {}
  for _, entry in ipairs(serving_order()) do
    if free <= 0 then break end
    local id, person = entry[1], entry[2]
    local count = counts[person] or tonumber(redis.call('HGET', KEYS[4], person) or '0')
    if count < person_limit then
      counts[person] = count + 1
      redis.call('LREM', KEYS[2], 1, id)
      redis.call('ZADD', KEYS[1], ARGV[3], id)
      redis.call('HINCRBY', KEYS[4], person, 1)
      table.insert(admitted, id)
      free = free - 1
    else
      counts[person] = count
    end
  end
end
local place = 0
if own and not redis.call('ZSCORE', KEYS[1], own) then
  for position, entry in ipairs(serving_order()) do
    if entry[1] == own then place = position break end
  end
end
table.insert(admitted, place)
return admitted
"""

# ARGV: answer id. Frees its slot or its place in line.
_LEAVE = _COMMON + """
drop_slot(ARGV[1])
redis.call('LREM', KEYS[2], 0, ARGV[1])
"""

# ARGV: answer id. Its place in serving order; 0 if not waiting.
_PLACE = _COMMON + """
if not redis.call('LPOS', KEYS[2], ARGV[1]) then return 0 end
for position, entry in ipairs(serving_order()) do
  if entry[1] == ARGV[1] then return position end
end
return 0
"""


def keys(schema: str) -> list[str]:
    """The client's in-flight set, waiting line, owners and per-person counts."""
    return [f"inflight:{schema}", f"waiting:{schema}", f"owners:{schema}",
            f"inflight-people:{schema}"]


@dataclass(frozen=True)
class Limits:
    client: int  # the client's answers in flight at once
    person: int  # one person's share of them

    @classmethod
    def of(cls, client: int, person: int | None = None) -> Limits:
        """A person's share defaults to half the client's limit, at least 1;
        it is never more than the client's limit."""
        client = max(1, client)
        share = person or max(1, client // 2)
        return cls(client=client, person=max(1, min(share, client)))


@dataclass(frozen=True)
class Admission:
    admitted: list[int]  # answers to enqueue now (this one among them, or not)
    place: int  # this answer's place in its client's line; 0: admitted


def _run(script: str, schema: str, *args) -> list:
    return redis_client.client().eval(script, 4, *keys(schema), *args)


@redis_client.unavailable_on_error
def admit(schema: str, message_id: int | None, *, limits: Limits,
          person: int | str | None = None) -> Admission:
    """Take a slot for the answer (written for `person`), or put it in its
    client's line; either way, also admit whoever waits while there is room."""
    now = time.time()
    args: list = [limits.client, limits.person, now, now - SLOT_STALE_SECONDS]
    if message_id is not None:
        args += [message_id, "" if person is None else str(person)]
    result = _run(_ADMIT, schema, *args)
    return Admission(admitted=[int(i) for i in result[:-1]], place=int(result[-1]))


@redis_client.unavailable_on_error
def leave(schema: str, message_id: int, *, limits: Limits) -> list[int]:
    """The answer ended (or was stopped while waiting): free its slot and
    return the answers of the same client admitted in its place."""
    _run(_LEAVE, schema, message_id)
    return admit(schema, None, limits=limits).admitted


def beat(pipe, schema: str, message_id: int | str, now: float) -> None:
    """On the lease keeper's pipeline: the answer's slot is alive (never
    re-adds one that was freed)."""
    pipe.zadd(keys(schema)[0], {str(message_id): now}, xx=True)


@redis_client.unavailable_on_error
def place_in_line(schema: str, message_id: int) -> int:
    """1 for the next to be admitted; 0 if not waiting."""
    return int(_run(_PLACE, schema, message_id))
