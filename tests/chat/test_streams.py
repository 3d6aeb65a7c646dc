"""The answer stream in real Redis: how the worker's text is batched."""

import asyncio
import time
import uuid

import pytest

from chat import streams


@pytest.fixture
def stream():
    schema, message_id = f"streams_{uuid.uuid4().hex[:8]}", 1
    yield schema, message_id
    streams.discard(schema, message_id)


def deltas(schema: str, message_id: int) -> list[str]:
    entries = streams._client().xrange(streams.key(schema, message_id))
    return [streams.json.loads(fields["data"])["text"] for _id, fields in entries]


def test_first_piece_goes_at_once_and_the_rest_in_batches(stream):
    writer = streams.DeltaWriter(*stream, interval=0.3)
    writer.write("Hello")
    assert deltas(*stream) == ["Hello"], "the first token is never held back"

    writer.write(",")
    writer.write(" world")
    assert deltas(*stream) == ["Hello"], "later tokens wait for the batch"

    time.sleep(0.6)  # no more tokens come: the background flush sends what waited
    assert deltas(*stream) == ["Hello", ", world"]

    writer.write("!")
    writer.flush()
    assert deltas(*stream) == ["Hello", ", world", "!"]
    writer.flush()
    assert deltas(*stream) == ["Hello", ", world", "!"], "an empty flush writes nothing"


def test_a_reader_gets_a_batch_per_read_ending_at_the_end_event(stream):
    schema, message_id = stream
    for text in ("one ", "two ", "three"):
        streams.append(schema, message_id, "delta", {"text": text})
    streams.append(schema, message_id, "done", {"html": ""})
    streams.append(schema, message_id, "delta", {"text": "never read"})

    async def read_all():
        return [batch async for batch in streams.read(schema, message_id)]

    batches = asyncio.run(read_all())

    assert [[e.event for e in batch] for batch in batches] == [
        ["delta", "delta", "delta", "done"]]
