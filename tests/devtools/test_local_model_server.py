"""The local model server, exercised through the real openai SDK over HTTP.

No Django here: the server must run standalone for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import httpx
import openai
import pytest

from devtools.local_model import (
    Behaviour,
    BehaviourOptions,
    LocalModelServer,
    split_tokens,
)

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-test-local-0123456789"
CHAT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalModelServer]:
    with LocalModelServer(api_key=API_KEY) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_state(server: LocalModelServer) -> Iterator[None]:
    server.reset()
    server.clear()
    yield
    server.reset()


@pytest.fixture
def client(server: LocalModelServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0) as sdk:
        yield sdk


def user(text: str) -> list[Any]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


# --------------------------------------------------------------------------- chat


def test_completion_echoes_the_last_user_message(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": "what about Berlin?"},
        ],
    )

    choice = completion.choices[0]
    assert choice.message.content == "You said: what about Berlin?"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert completion.object == "chat.completion"
    assert completion.model == CHAT_MODEL
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage is not None
    # Tokens are whitespace words: "You", " said:", " what", " about", " Berlin?".
    assert completion.usage.completion_tokens == 5
    assert completion.usage.prompt_tokens == 2 + 2 + 3
    assert completion.usage.total_tokens == 12
    assert completion._request_id is not None


def test_reply_directive_sets_the_exact_text_and_max_tokens_cuts_it(
    client: openai.OpenAI,
) -> None:
    exact = client.chat.completions.create(
        model=CHAT_MODEL, messages=user("[[reply: Paris is the capital.]] ignored")
    )
    cut = client.chat.completions.create(
        model=CHAT_MODEL, messages=user("[[reply: one two three four]]"), max_tokens=2
    )

    assert exact.choices[0].message.content == "Paris is the capital."
    assert cut.choices[0].message.content == "one two"
    assert cut.choices[0].finish_reason == "length"


def test_server_wide_reply_and_token_count(server: LocalModelServer, client: openai.OpenAI) -> None:
    server.configure(reply_text="Fixed answer", reply_tokens=6)

    completion = client.chat.completions.create(model=CHAT_MODEL, messages=user("hi"))

    text = completion.choices[0].message.content
    assert text is not None and text.startswith("Fixed answer ")
    assert len(split_tokens(text)) == 6


def test_stream_yields_the_exact_text_then_a_usage_chunk(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=user("stream this please [[tokens: 12]]"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert "".join(deltas) == (
        "You said: stream this please lorem ipsum dolor sit amet consectetur adipiscing"
    )
    assert len(deltas) == 12
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finishing] == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens == 12
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_on_the_wire_is_sse_ending_in_done(server: LocalModelServer) -> None:
    body = {
        "model": CHAT_MODEL,
        "messages": user("[[reply: a b]]"),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"authorization": f"Bearer {API_KEY}"}

    with httpx.stream(
        "POST", f"{server.base_url}/chat/completions", json=body, headers=headers
    ) as r:
        content_type = r.headers["content-type"]
        events = [line for line in r.iter_lines() if line]

    assert content_type.startswith("text/event-stream")
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks[:-1]] == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "a"},
        {"content": " b"},
        {},
    ]
    assert [c["usage"] for c in chunks[:-1]] == [None] * 4  # present and null until the end
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 2


def test_stream_without_include_usage_has_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model=CHAT_MODEL, messages=user("hello"), stream=True)
    )

    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_stream_is_paced_by_the_token_delays(
    server: LocalModelServer, client: openai.OpenAI
) -> None:
    server.configure(token_delay=0.03, first_token_delay=0.15)

    started = time.perf_counter()
    arrivals = []
    for chunk in client.chat.completions.create(
        model=CHAT_MODEL, messages=user("[[tokens: 6]]"), stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.perf_counter() - started)

    assert len(arrivals) == 6
    assert arrivals[0] >= 0.15
    assert arrivals == sorted(arrivals)
    assert arrivals[-1] - arrivals[0] >= 5 * 0.03 * 0.8  # tokens spread out, not one burst


def test_unknown_chat_model_is_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-nonexistent", messages=user("hi"))

    assert caught.value.code == "model_not_found"
    assert caught.value.status_code == 404


def test_fine_tuned_model_ids_are_known(client: openai.OpenAI) -> None:
    model = "ft:gpt-4o-mini-2024-07-18:acme::abc123"

    completion = client.chat.completions.create(model=model, messages=user("hi"))

    assert completion.model == model


# --------------------------------------------------------------------------- embeddings


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embeddings_are_deterministic_unit_vectors(client: openai.OpenAI) -> None:
    texts = ["Refunds are paid within 14 days.", "How long do refunds take?", "Parking rules"]

    # The SDK asks for base64 by default and decodes it; float is the explicit path.
    first = client.embeddings.create(model=EMBEDDING_MODEL, input=texts)
    again = client.embeddings.create(model=EMBEDDING_MODEL, input=texts, encoding_format="float")

    vectors = [item.embedding for item in first.data]
    assert [item.index for item in first.data] == [0, 1, 2]
    assert all(len(vector) == 1536 for vector in vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors)
    for decoded, exact in zip(vectors, (item.embedding for item in again.data), strict=True):
        assert max(abs(x - y) for x, y in zip(decoded, exact, strict=True)) < 1e-6
    assert vectors[0] != vectors[2]
    # Shared words ("refunds") make texts closer than unrelated ones.
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert first.usage.prompt_tokens > 0
    assert first.model == EMBEDDING_MODEL


def test_embeddings_take_a_single_string_and_dimensions(client: openai.OpenAI) -> None:
    response = client.embeddings.create(model=EMBEDDING_MODEL, input="hello", dimensions=256)

    assert len(response.data) == 1
    assert len(response.data[0].embedding) == 256


def test_empty_embedding_input_is_rejected(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=EMBEDDING_MODEL, input="")

    assert caught.value.param == "input"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- models


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    listed = [model.id for model in client.models.list()]
    retrieved = client.models.retrieve("gpt-4o")

    assert {"gpt-4o-mini", "gpt-4o", "text-embedding-3-small"} <= set(listed)
    assert retrieved.id == "gpt-4o"
    assert retrieved.object == "model"


def test_retrieving_an_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("no-such-model")

    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "model_not_found"
    assert body["type"] == "invalid_request_error"


def test_configured_model_set_replaces_the_defaults() -> None:
    with (
        LocalModelServer(models=["only-model"]) as custom,
        openai.OpenAI(base_url=custom.base_url, api_key=custom.api_key) as sdk,
    ):
        assert [model.id for model in sdk.models.list()] == ["only-model"]
        with pytest.raises(openai.NotFoundError):
            sdk.models.retrieve("gpt-4o")


# --------------------------------------------------------------------------- auth


def test_wrong_key_is_rejected_with_openais_error_body(server: LocalModelServer) -> None:
    with (
        openai.OpenAI(base_url=server.base_url, api_key="sk-wrong-key-999", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        sdk.models.list()

    assert caught.value.code == "invalid_api_key"
    assert "sk-wrong-key-999" not in str(caught.value)  # the key is masked


def test_missing_key_is_401(server: LocalModelServer) -> None:
    response = httpx.get(f"{server.base_url}/models")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["code"] == "invalid_api_key"


# --------------------------------------------------------------------------- faults


def test_429_then_success_honours_retry_after(server: LocalModelServer) -> None:
    server.configure(fail_next=1, fail_status=429, retry_after=1)

    with openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=2) as sdk:
        completion = sdk.chat.completions.create(model=CHAT_MODEL, messages=user("retry me"))

    assert completion.choices[0].message.content == "You said: retry me"
    attempts = server.requests("/v1/chat/completions")
    assert [a["headers"]["x-stainless-retry-count"] for a in attempts] == ["0", "1"]
    # The SDK's own first backoff is under 0.5 s; a retry at least ~1 s after the
    # first attempt (the server's clock, both times) means Retry-After was used.
    assert attempts[1]["received_at"] - attempts[0]["received_at"] >= 0.9


def test_500_surfaces_as_internal_server_error_without_retries(
    server: LocalModelServer, client: openai.OpenAI
) -> None:
    server.configure(fail_next=1, fail_status=500)

    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=CHAT_MODEL, messages=user("hi"))
    recovered = client.chat.completions.create(model=CHAT_MODEL, messages=user("hi"))

    assert caught.value.status_code == 500
    assert recovered.choices[0].message.content == "You said: hi"


def test_fail_directive_fails_only_that_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=CHAT_MODEL, messages=user("[[fail: 429]]"))

    assert caught.value.response.headers["retry-after"] == "1"
    assert client.chat.completions.create(model=CHAT_MODEL, messages=user("ok")).choices


def test_truncated_stream_raises_connection_error_after_k_tokens(
    server: LocalModelServer, client: openai.OpenAI
) -> None:
    server.configure(truncate_after=3)
    received: list[str] = []

    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(
            model=CHAT_MODEL, messages=user("[[tokens: 10]]"), stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)

    # What the SDK does: the first K deltas arrive, then the cut body surfaces as
    # APIConnectionError (httpx's "incomplete chunked read"), never a silent end.
    assert received == ["You", " said:", " lorem"]


def test_hang_times_out_and_the_server_keeps_serving(
    server: LocalModelServer, client: openai.OpenAI
) -> None:
    server.configure(hang=True)

    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model=CHAT_MODEL, messages=user("hi"), timeout=0.4)
    elapsed = time.perf_counter() - started
    server.configure(hang=False)

    # It waited for its own timeout (the server never answers: the error proves it gave up).
    assert elapsed >= 0.35
    assert client.models.retrieve(CHAT_MODEL).id == CHAT_MODEL


def test_stalled_stream_times_out_mid_stream(client: openai.OpenAI) -> None:
    received: list[str] = []

    with pytest.raises(openai.APITimeoutError):
        for chunk in client.chat.completions.create(
            model=CHAT_MODEL, messages=user("[[stall: 2]] [[tokens: 8]]"), stream=True, timeout=0.4
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)

    assert len(received) == 2


# --------------------------------------------------------------------------- over HTTP


def test_requests_are_recorded_without_the_key(
    server: LocalModelServer, client: openai.OpenAI
) -> None:
    client.chat.completions.create(
        model=CHAT_MODEL, messages=user("my email is [EMAIL]"), store=False, user="tenant-a"
    )

    recorded = httpx.get(f"{server.url}/_requests").json()

    assert len(recorded) == 1
    entry = recorded[0]
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/chat/completions"
    assert entry["body"]["store"] is False
    assert entry["body"]["messages"][-1]["content"] == "my email is [EMAIL]"
    assert entry["headers"]["authorization"] == "[redacted]"
    assert API_KEY not in str(entry)
    assert entry["api_key_sha256"] == hashlib.sha256(API_KEY.encode()).hexdigest()

    assert httpx.delete(f"{server.url}/_requests").json() == {"cleared": 1}
    assert httpx.get(f"{server.url}/_requests").json() == []


def test_control_endpoint_drives_faults_from_outside(
    server: LocalModelServer, client: openai.OpenAI
) -> None:
    changed = httpx.post(f"{server.url}/_control", json={"fail_next": 1, "fail_status": 503})
    assert changed.json()["behaviour"]["fail_next"] == 1

    with pytest.raises(openai.InternalServerError) as caught:
        client.models.list()
    assert caught.value.status_code == 503

    rejected = httpx.post(f"{server.url}/_control", json={"token_delay": -1})
    unknown = httpx.post(f"{server.url}/_control", json={"explode": True})
    assert rejected.status_code == 400
    assert unknown.status_code == 400
    assert "explode" in unknown.json()["error"]["message"]

    httpx.post(f"{server.url}/_control", json={"token_delay": 0.5})
    reset = httpx.post(f"{server.url}/_control", json={"reset": True})
    assert reset.json()["behaviour"] == Behaviour().as_dict()


def test_configure_rejects_bad_values(server: LocalModelServer) -> None:
    with pytest.raises(ValueError, match="fail_status"):
        server.configure(fail_status=200)
    with pytest.raises(ValueError, match="Unknown"):
        server.configure(**{"nope": 1})  # type: ignore[typeddict-unknown-key]


def test_async_client_streams_concurrently(server: LocalModelServer) -> None:
    server.configure(token_delay=0.2)
    opened: list[float] = []  # when each stream's response began
    closed: list[float] = []  # when each stream's last chunk arrived

    async def one(sdk: openai.AsyncOpenAI, index: int) -> str:
        stream = await sdk.chat.completions.create(
            model=CHAT_MODEL, messages=user(f"question {index} [[tokens: 10]]"), stream=True
        )
        opened.append(time.perf_counter())
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        closed.append(time.perf_counter())
        return "".join(parts)

    async def many() -> list[str]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key=API_KEY) as sdk:
            return await asyncio.gather(*(one(sdk, i) for i in range(50)))

    texts = asyncio.run(many())

    assert [text.split()[2] for text in texts] == ["question"] * 50
    assert all(len(split_tokens(text)) == 10 for text in texts)
    # Concurrent: every stream had begun before any had ended, so at one moment
    # all 50 were open (served one after another, the first ends before the second begins).
    assert max(opened) < min(closed)


# --------------------------------------------------------------------------- helpers and CLI


@pytest.mark.parametrize("text", ["", "one", "  lead and trail  ", "a\n\nb\tc", "x  y"])
def test_split_tokens_concatenates_back_to_the_text(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_behaviour_options_mirror_the_behaviour_fields() -> None:
    fields = {field.name for field in dataclasses.fields(Behaviour)}

    assert set(get_type_hints(BehaviourOptions)) == fields


def test_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_model", "--port", "0", "--api-key", "sk-cli"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = banner.split()[4]
        with openai.OpenAI(base_url=base_url, api_key="sk-cli", max_retries=0) as sdk:
            assert sdk.models.retrieve(CHAT_MODEL).id == CHAT_MODEL
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)  # a hang guard, not a bound
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0
    assert "stopped" in stdout
    assert "Traceback" not in stderr
