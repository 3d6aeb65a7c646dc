"""Every error of the Redis client is the "temporarily unavailable" sentence
(503), not a 500: also the ones redis-py lets out that are not its own error
types, such as `ValueError: I/O operation on closed file` from a connection
that was closed while it was still connecting (seen once under load). Our
own errors stay what they are."""

from __future__ import annotations

import io
import time

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from chat import streams
from chat.models import Message
from core import redis_client
from tests.support.accounts import log_in_client
from tests.support.factories import AnswerFactory, ConversationFactory, client_admin


@pytest.fixture
def connect_breaks():
    """Our Redis client's next connections are slow and end with the socket
    closed under them (the outside world; the client library is the real one)."""
    pool = redis_client.client().connection_pool
    real = pool.connection_class

    class SlowThenClosed(real):
        def _connect(self):
            sock = super()._connect()
            time.sleep(0.2)
            # Closed meanwhile (another thread gave up on it), with the read
            # buffer redis-py's pure-Python parser keeps (redis._parsers.socket).
            buffer = io.BytesIO()
            sock.close()
            buffer.close()
            buffer.write(b"")  # ValueError: I/O operation on closed file.
            return sock

    pool.reset()  # no connection made before: every one is made now
    pool.connection_class = SlowThenClosed
    yield
    pool.connection_class = real
    pool.reset()


def test_a_closed_file_on_a_slow_connect_is_the_503_sentence(make_client, connect_breaks):
    result = make_client("closedfile")
    with schema_context(result.client.schema_name):
        conversation = ConversationFactory(user=client_admin())
        streaming = AnswerFactory(reply_to__conversation=conversation,
                                  status=Message.Status.STREAMING, content="")
    http = log_in_client(HttpClient(HTTP_HOST=result.domain.domain))

    sent = http.post("/send/", {"text": "Are you there?"},
                     HTTP_ACCEPT="application/json")
    stop = http.post(f"/answers/{streaming.pk}/stop/", HTTP_ACCEPT="application/json")

    for response in (sent, stop):
        assert response.status_code == 503, response.content[:300]
        assert "temporarily unavailable" in response.json()["error"]
    with pytest.raises(redis_client.Unavailable):  # the worker's side: one thing to catch
        streams.append(result.client.schema_name, streaming.pk, "status", {})


def test_our_own_value_errors_are_not_taken_for_an_outage(make_client):
    schema = make_client("ownerror").client.schema_name
    redis_client.client().set(streams.key(schema, 1, "final"), "{not json")
    try:
        with pytest.raises(ValueError) as raised:
            streams.get_final(schema, 1)
        assert not isinstance(raised.value, redis_client.Unavailable)
    finally:
        streams.discard(schema, 1)
