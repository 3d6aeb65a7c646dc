"""The gateway's own SSE reader for chat chunks (llm/gateway.py `_ChunkStream`),
against a real HTTP server that sends the bytes a model server may send:
CRLF line ends, comments, events split anywhere across network reads, the
usage chunk, `[DONE]`, and an error event in the middle of the answer."""

from __future__ import annotations

import socketserver
import threading
import time

import pytest
from django.test import override_settings

from llm import gateway

KEY = "sk-chunk-stream-test"
CHUNKS = (
    b": keep-alive comment\r\n\r\n"
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\r\n\r\n'
    b'data: {"choices":[{"index":0,"delta":{"content":"lo, "},"finish_reason":null}]}\n\n'
    b'data:{"choices":[{"index":0,"delta":{"content":"world"},"finish_reason":"stop"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}\n\n'
    b"data: [DONE]\n\n"
)
ERROR_MIDWAY = (
    b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'
)


class _SSEHandler(socketserver.StreamRequestHandler):
    body = b""

    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request's headers; its body is not needed
        self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                         b"connection: close\r\n\r\n")
        body = self.body
        for start in range(0, len(body), 23):  # pieces that split lines and events
            self.wfile.write(body[start:start + 23])
            self.wfile.flush()
            time.sleep(0.002)


@pytest.fixture
def sse_server():
    servers = []

    def serve(body: bytes) -> str:
        handler = type("Handler", (_SSEHandler,), {"body": body})
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _stream(base_url: str, parts: list[str], seen: list[str]) -> gateway.Completion:
    endpoint = gateway.ModelEndpoint(api_key=KEY, base_url=base_url)
    with override_settings(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=KEY):
        return gateway._stream_once(
            gateway.client_for(endpoint).with_options(max_retries=0), endpoint=endpoint,
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
            temperature=0.0, max_tokens=10, on_delta=lambda text: seen.append(text) or True,
            parts=parts, deadline=None)


def test_text_usage_and_the_end_come_through_whatever_the_splits(sse_server):
    parts: list[str] = []
    seen: list[str] = []
    completion = _stream(sse_server(CHUNKS), parts, seen)
    assert seen == ["Hel", "lo, ", "world"]
    assert completion.text == "Hello, world" and completion.finish_reason == "stop"
    assert (completion.prompt_tokens, completion.completion_tokens) == (7, 3)


def test_an_error_event_after_text_fails_the_answer_and_keeps_the_text(sse_server):
    parts: list[str] = []
    seen: list[str] = []
    with pytest.raises(gateway.GatewayError) as failed:
        _stream(sse_server(ERROR_MIDWAY), parts, seen)
    assert seen == parts == ["Hel"]  # kept: _stream_chat never retries once text was shown
    # What the SDK's own decoder made of it too (an APIError, the stream broken).
    assert failed.value.kind == "truncated"
