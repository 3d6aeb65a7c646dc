"""The Celery broker transport: kombu's Redis transport, fixed to survive a Redis outage.

Why: with tasks in flight (acks_late), a worker that loses Redis exits for good.
kombu 5.7's redis Channel.close() first reads the pending BRPOP reply; with the
server gone that raises a connection error *before* the channel is marked
closed. Celery's consumer then detaches the transport from its Connection
(`Connection.collect()` sets `transport.client = None`) and closes the
connection again; the second close tries to give the unacknowledged tasks
back, builds a fresh Redis pool from `transport.client.hostname` and dies
with "AttributeError: 'NoneType' object has no attribute 'hostname'", which
Celery treats as unrecoverable. Tasks still running also ack through their
old channel later, which needs the same connection details.

The fix keeps the connection details on the transport (a `client` of None is
ignored), so every late use of an old channel reaches Redis (or fails with an
ordinary connection error, which Celery handles by reconnecting).

Used for every Redis broker URL: `redis://` URLs name this transport through
the `broker_transport` setting; a Unix socket URL names it itself, as
`tuneaibot-redis+socket:///path/redis.sock` (kombu's "+socket" form).
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

ALIAS = "tuneaibot-redis"


class ResilientRedisTransport(kombu_redis.Transport):
    """kombu's Redis transport whose connection details outlive a broken connection."""

    @property
    def client(self):
        return self.__dict__.get("_kept_client")

    @client.setter
    def client(self, value) -> None:
        # kombu clears it when it discards a broken connection, while channels
        # of that connection still have unacknowledged tasks to give back.
        if value is not None:
            self.__dict__["_kept_client"] = value


# A transport name in a URL must be an alias (kombu imports no module named by a
# URL); ours points at the class above.
TRANSPORT_ALIASES.setdefault(ALIAS, f"{__name__}:ResilientRedisTransport")

