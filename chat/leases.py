"""Answer leases in Redis: which worker writes an answer.

A worker takes the lease before it writes and renews it while it works (one
keeper thread per process), so a dead worker can be told from a slow one:
its lease lapses after CHAT_LEASE_SECONDS and the answer is redone once. A
worker whose lease another took stops writing (`writer_check`). The lease
key sits beside the answer's stream (chat/streams.py), which drops it when
the answer ends.

Fencing: each time a worker takes the lease, the answer's fence (a counter
beside it) goes up by one, and the taker's writes carry that number: its
stream entries are written by a script that checks the fence in the same
step (chat.streams.DeltaWriter), its database writes are conditional on the
answer's `attempts`, which its claim raised (chat.services). A worker whose
lease lapsed while Redis was away and was taken by another can never write
the answer again, not even between Redis coming back and its next check.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from chat import slots, streams
from core import redis_client

logger = logging.getLogger(__name__)

LEASE_SECONDS = getattr(settings, "CHAT_LEASE_SECONDS", 15)


@redis_client.unavailable_on_error
def writer_check(schema: str, message_id: int, fence: streams.Fence) -> str | None:
    """"stop" if the employee pressed Stop; "lost" if another worker took the
    answer over (our lease lapsed, say while Redis was unreachable, and the
    answer is being redone): this writer must stop without a word, or the
    text would be written twice. None: carry on."""
    pipe = redis_client.client().pipeline(transaction=False)
    pipe.exists(streams.key(schema, message_id, "stop"))
    pipe.get(streams.key(schema, message_id, "fence"))
    stop, number = pipe.execute()
    return streams.writer_state(stop, number, fence)


# Take a free lease and raise the fence; 0 if another worker holds it.
_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return fence
end
return 0
"""


@redis_client.unavailable_on_error
def take_lease(schema: str, message_id: int, token: str) -> streams.Fence | None:
    """This worker's fence if it now owns the answer (nobody else holds a live
    lease); None otherwise."""
    number = redis_client.client().eval(
        _TAKE, 2, streams.key(schema, message_id, "lease"),
        streams.key(schema, message_id, "fence"), token, LEASE_SECONDS,
        streams.STREAM_TTL_SECONDS * 2)
    return streams.Fence(int(number), token, LEASE_SECONDS) if number else None


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Renew a lease that is ours, or that lapsed while nobody took the answer
# over since (the fence is still ours); never one another worker took.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or (holder == false and redis.call('GET', KEYS[2]) == ARGV[3]) then
  return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return false
"""


class LeaseKeeper:
    """Renews the leases of every answer this process is writing, from one
    thread, so a lease lives exactly as long as its worker does (even while
    the model is slow to send its first token)."""

    def __init__(self) -> None:
        self._leases: dict[str, streams.Fence] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, schema: str, message_id: int, fence: streams.Fence) -> None:
        with self._lock:
            self._leases[streams.key(schema, message_id, "lease")] = fence
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-keeper",
                                                daemon=True)
                self._thread.start()

    def release(self, schema: str, message_id: int) -> None:
        key = streams.key(schema, message_id, "lease")
        with self._lock:
            fence = self._leases.pop(key, None)
        if fence is not None:  # only our own lease: another worker may hold it now
            _delete_lease(schema, message_id, fence.token)

    def _run(self) -> None:
        pause = max(0.5, LEASE_SECONDS / 3)
        while True:
            time.sleep(pause)
            with self._lock:
                leases = dict(self._leases)
            if not leases:
                continue
            try:
                pipe = redis_client.client().pipeline(transaction=False)
                now = time.time()
                for key, fence in leases.items():
                    _prefix, schema, message_id, _part = key.split(":")
                    pipe.eval(_RENEW, 2, key, streams.key(schema, int(message_id), "fence"),
                              fence.token, LEASE_SECONDS, fence.number)
                    # The answer's slot (fair share) is alive too.
                    slots.beat(pipe, schema, message_id, now)
                pipe.execute()
                pause = max(0.5, LEASE_SECONDS / 3)
            except Exception as exc:
                if not redis_client.is_client_error(exc):
                    logger.exception("The lease keeper failed a round")
                # Redis is away: try again soon, so a lease that lapsed in the
                # meantime is ours again as soon as it is back.
                pause = 0.5


@redis_client.unavailable_on_error
def _delete_lease(schema: str, message_id: int, token: str) -> None:
    redis_client.client().eval(_RELEASE, 1, streams.key(schema, message_id, "lease"), token)


keeper = LeaseKeeper()


@redis_client.unavailable_on_error
def lease_alive(schema: str, message_id: int) -> bool:
    return bool(redis_client.client().exists(streams.key(schema, message_id, "lease")))
