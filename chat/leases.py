"""Answer leases in Redis: which worker writes an answer.

A worker takes the lease before it writes and renews it while it works (one
keeper thread per process), so a dead worker can be told from a slow one:
its lease lapses after CHAT_LEASE_SECONDS and the answer is redone once. A
worker whose lease another took stops writing (`writer_check`). The lease
key sits beside the answer's stream (chat/streams.py), which drops it when
the answer ends.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from chat import streams
from core import redis_client

LEASE_SECONDS = getattr(settings, "CHAT_LEASE_SECONDS", 15)


@redis_client.unavailable_on_error
def writer_check(schema: str, message_id: int, token: str) -> str | None:
    """"stop" if the employee pressed Stop; "lost" if another worker now holds
    the answer's lease (ours lapsed, say while Redis was unreachable, and the
    answer is being redone): this writer must stop without a word, or the
    text would be written twice. None: carry on."""
    pipe = redis_client.client().pipeline(transaction=False)
    pipe.exists(streams.key(schema, message_id, "stop"))
    pipe.get(streams.key(schema, message_id, "lease"))
    stop, holder = pipe.execute()
    if holder is not None and holder != token:
        return "lost"
    return "stop" if stop else None


@redis_client.unavailable_on_error
def take_lease(schema: str, message_id: int, token: str) -> bool:
    """True if this worker now owns the answer (nobody else holds a live lease)."""
    return bool(redis_client.client().set(streams.key(schema, message_id, "lease"), token, nx=True,
                              ex=LEASE_SECONDS))


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Renew a lease that is ours or has lapsed; never one another worker took.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return false
"""


class LeaseKeeper:
    """Renews the leases of every answer this process is writing, from one
    thread, so a lease lives exactly as long as its worker does (even while
    the model is slow to send its first token)."""

    def __init__(self) -> None:
        self._leases: dict[str, str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, schema: str, message_id: int, token: str) -> None:
        with self._lock:
            self._leases[streams.key(schema, message_id, "lease")] = token
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-keeper",
                                                daemon=True)
                self._thread.start()

    def release(self, schema: str, message_id: int) -> None:
        key = streams.key(schema, message_id, "lease")
        with self._lock:
            token = self._leases.pop(key, None)
        if token is not None:  # only our own lease: another worker may hold it now
            _delete_lease(schema, message_id, token)

    def _run(self) -> None:
        renew = redis_client.client().register_script(_RENEW)
        while True:
            time.sleep(max(0.5, LEASE_SECONDS / 3))
            with self._lock:
                leases = dict(self._leases)
            if not leases:
                continue
            try:
                pipe = redis_client.client().pipeline(transaction=False)
                for key, token in leases.items():
                    renew(keys=[key], args=[token, LEASE_SECONDS], client=pipe)
                pipe.execute()
            except redis_client.ERRORS:
                continue  # Redis is back soon, or the answer fails on its own


@redis_client.unavailable_on_error
def _delete_lease(schema: str, message_id: int, token: str) -> None:
    redis_client.client().eval(_RELEASE, 1, streams.key(schema, message_id, "lease"), token)


keeper = LeaseKeeper()


@redis_client.unavailable_on_error
def lease_alive(schema: str, message_id: int) -> bool:
    return bool(redis_client.client().exists(streams.key(schema, message_id, "lease")))
