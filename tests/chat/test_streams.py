"""The answer stream in real Redis: how the worker's text is batched."""

import asyncio
import time
import uuid

import pytest

from chat import leases, streams


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


@pytest.fixture
def two_streams():
    schema = f"streams_{uuid.uuid4().hex[:8]}"
    yield schema
    for message_id in (1, 2):
        streams.discard(schema, message_id)


def test_answers_written_at_once_share_the_flushers_batches_in_order(two_streams):
    schema = two_streams
    fences = [leases.take_lease(schema, n, f"token-{n}") for n in (1, 2)]
    writers = [streams.DeltaWriter(schema, n, fence=fence)
               for n, fence in zip((1, 2), fences, strict=True)]
    for n, writer in enumerate(writers, start=1):
        writer.write(f"{n}:first")
    with streams._flusher.sending:  # hold the next batch back while both write more
        for writer in writers:
            for piece in (" a", " b", " c"):
                writer.write(piece)
    deadline = time.monotonic() + 30
    while any(len(deltas(schema, n)) < 2 for n in (1, 2)) and time.monotonic() < deadline:
        time.sleep(0.02)
    for n, writer in enumerate(writers, start=1):
        writer.close()
        assert deltas(schema, n) == [f"{n}:first", " a b c"], "one batch per answer, in order"


def test_the_flusher_brings_back_stop_and_a_lost_lease(two_streams):
    schema = two_streams
    client = streams._client()
    stopped = streams.DeltaWriter(schema, 1, fence=leases.take_lease(schema, 1, "mine"))
    taken = streams.DeltaWriter(schema, 2, fence=leases.take_lease(schema, 2, "mine"))
    for writer in (stopped, taken):
        writer.write("hello")
    streams.request_stop(schema, 1)
    client.delete(streams.key(schema, 2, "lease"))  # lapsed, and another worker took it
    assert leases.take_lease(schema, 2, "another-worker") is not None
    deadline = time.monotonic() + 30
    while (stopped.state, taken.state) != ("stop", "lost") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (stopped.state, taken.state) == ("stop", "lost")

    taken.write(" never sent")  # another worker writes this answer now
    time.sleep(3 * streams.FLUSH_MAX_SECONDS)
    taken.drop()
    stopped.close()
    assert deltas(schema, 2) == ["hello"]


def test_the_cadence_lengthens_with_the_answers_a_process_writes():
    cadence = [streams.flush_interval(n) for n in (1, 10, 100, 1000, 10000)]
    assert cadence == sorted(cadence)
    assert cadence[0] == streams.FLUSH_SECONDS and cadence[-1] == streams.FLUSH_MAX_SECONDS
