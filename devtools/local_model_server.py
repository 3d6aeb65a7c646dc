"""A local OpenAI-compatible model server for tests, benchmarks and the demo run.

Nothing in this project mocks the ``openai`` SDK: the real SDK talks HTTP to this
server instead (``base_url=server.base_url``). It is a small hand-rolled asyncio
HTTP/1.1 server rather than a framework app so that faults are exact (a stream
cut mid-way without ``[DONE]``, a request that is never answered) and so that
hundreds of concurrent streams cost little CPU. It must not import Django, so
tests and benchmarks can start it on its own.

Endpoints::

    POST /v1/chat/completions   deterministic reply, JSON or SSE stream
    POST /v1/embeddings         deterministic bag-of-words unit vectors
    GET  /v1/models[/{id}]      a configurable set of models; any ``ft:`` id is known
    GET|POST /_control          read or change the behaviour below (JSON)
    GET|DELETE /_requests       every /v1 request received, or clear them
    GET  /_health               readiness probe

Behaviour (constructor keywords, ``configure()``, or ``POST /_control``):
``reply_text``, ``reply_tokens``, ``token_delay``, ``first_token_delay``,
``fail_next``, ``fail_status``, ``retry_after``, ``truncate_after``,
``stall_after``, ``hang``, ``cut_next`` (the next N chat streams are cut
before their first token); ``{"reset": true}`` restores the constructor's.

A chat request whose last user message holds directives steers only that
request: ``[[reply: exact text]]``, ``[[tokens: 20]]``, ``[[fail: 429]]``,
``[[hang]]``, ``[[truncate: 3]]``, ``[[stall: 3]]``, ``[[token-delay: 0.01]]``,
``[[first-token-delay: 0.5]]``, ``[[malformed: 3]]`` (after 3 tokens, a chunk that is
not JSON). A slow drip is ``[[token-delay: 25]]`` (one chunk every 25 s).
Directives are removed from the echoed text.

Run in the foreground: ``python -m devtools.local_model_server --port 8099``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import hmac
import http
import json
import logging
import math
import re
import signal
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, Unpack
from urllib.parse import unquote

logger = logging.getLogger(__name__)

DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")
DEFAULT_EMBEDDING_DIMENSIONS = 1536
DEFAULT_RECORD_LIMIT = 10_000
LOCAL_API_KEY = "sk-local-model-server"  # what clients send when the server checks no key

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
# Fixed so model listings are byte-for-byte deterministic between runs.
MODEL_CREATED_AT = 1_700_000_000
SYSTEM_FINGERPRINT = "fp_local"
FILLER_WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")

JsonObject = dict[str, Any]
_T = TypeVar("_T")


# --------------------------------------------------------------------------- behaviour


@dataclass(frozen=True)
class Behaviour:
    """Server-wide behaviour. Immutable: a change swaps the whole object under a lock."""

    reply_text: str | None = None  # fixed reply instead of "You said: ..."
    reply_tokens: int | None = None  # pad with filler words or cut every reply to this many
    token_delay: float = 0.0  # seconds before each streamed token
    first_token_delay: float = 0.0  # extra seconds before the first token
    fail_next: int = 0  # answer the next N /v1 requests with fail_status
    fail_status: int = 429
    retry_after: float | None = 1.0  # Retry-After seconds sent with injected failures
    truncate_after: int | None = None  # close streams after K tokens, no [DONE]
    stall_after: int | None = None  # stop streams after K tokens, keep the socket open
    hang: bool = False  # never answer /v1 requests
    cut_next: int = 0  # cut the next N chat streams before their first token

    def updated(self, changes: Mapping[str, object]) -> Behaviour:
        unknown = sorted(set(changes) - _BEHAVIOUR_FIELDS)
        if unknown:
            known = ", ".join(sorted(_BEHAVIOUR_FIELDS))
            raise ValueError(f"Unknown behaviour setting(s) {unknown}; known settings: {known}.")
        validated = {name: _validated_setting(name, value) for name, value in changes.items()}
        return dataclasses.replace(self, **validated)

    def as_dict(self) -> JsonObject:
        return dataclasses.asdict(self)


class BehaviourOptions(TypedDict, total=False):
    """Keyword arguments accepted wherever behaviour is set; mirrors ``Behaviour``."""

    reply_text: str | None
    reply_tokens: int | None
    token_delay: float
    first_token_delay: float
    fail_next: int
    fail_status: int
    retry_after: float | None
    truncate_after: int | None
    stall_after: int | None
    hang: bool
    cut_next: int


_BEHAVIOUR_FIELDS = frozenset(field.name for field in dataclasses.fields(Behaviour))
_NULLABLE_SETTINGS = frozenset(
    {"reply_text", "reply_tokens", "retry_after", "truncate_after", "stall_after"}
)
_COUNT_SETTINGS = frozenset(
    {"reply_tokens", "fail_next", "truncate_after", "stall_after", "cut_next"})
_SECONDS_SETTINGS = frozenset({"token_delay", "first_token_delay", "retry_after"})


def _validated_setting(name: str, value: object) -> object:
    # Settings also arrive as JSON from another process, so check types strictly here
    # rather than failing later inside a request.
    if value is None and name in _NULLABLE_SETTINGS:
        return None
    if name == "reply_text":
        if not isinstance(value, str):
            raise ValueError("reply_text must be a string or null.")
        return value
    if name == "hang":
        if not isinstance(value, bool):
            raise ValueError("hang must be true or false.")
        return value
    if name == "fail_status":
        if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
            raise ValueError("fail_status must be an HTTP error status between 400 and 599.")
        return value
    if name in _COUNT_SETTINGS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number of 0 or more.")
        return value
    if name in _SECONDS_SETTINGS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number of seconds.")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number of seconds, 0 or more.")
        return float(value)
    raise ValueError(f"Unknown behaviour setting {name!r}.")  # guarded by updated()


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answered to the client in OpenAI's error JSON shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: JsonObject = {
            "error": {"message": message, "type": error_type, "param": param, "code": code}
        }
        self.headers = list(headers)


def _injected_failure(status: int, retry_after: float | None) -> ApiError:
    headers = [] if retry_after is None else [("retry-after", _format_seconds(retry_after))]
    if status == 429:
        return ApiError(
            429,
            "Rate limit reached for requests (injected by the local model server).",
            error_type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )
    if status >= 500:
        return ApiError(
            status,
            "The server had an error while processing your request (injected by the local"
            " model server).",
            error_type="server_error",
            headers=headers,
        )
    return ApiError(
        status, "Request refused (injected by the local model server).", headers=headers
    )


def _format_seconds(seconds: float) -> str:
    # Whole seconds as "1" (the HTTP form); fractions stay, which the SDK accepts.
    return str(int(seconds)) if seconds.is_integer() else f"{seconds:g}"


# --------------------------------------------------------------------------- HTTP/1.1


class _HttpError(Exception):
    """The bytes received were not a request we can read; answered, then the socket closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _HttpRequest:
    method: str
    path: str
    query: str
    version: str
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> _HttpRequest | None:
    """Read one request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _HttpError(400, "The request ended before its headers did.") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise _HttpError(431, "The request headers are too large.") from exc

    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    try:
        method, target, version = request_line.split(" ")
    except ValueError as exc:
        raise _HttpError(400, "The request line is malformed.") from exc
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _HttpError(505, "Only HTTP/1.1 and HTTP/1.0 are supported.")

    headers: dict[str, str] = {}
    for line in header_lines:
        name, separator, value = line.partition(":")
        if not separator:
            raise _HttpError(400, "A request header is malformed.")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()

    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    path, _, query = target.partition("?")
    return _HttpRequest(method.upper(), unquote(path), query, version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await _read_chunked_body(reader)
        length = int(headers.get("content-length", "0"))
    except (ValueError, asyncio.LimitOverrunError) as exc:
        raise _HttpError(400, "The request body framing is malformed.") from exc
    if length < 0:
        raise _HttpError(400, "Content-Length must not be negative.")
    if length > MAX_BODY_BYTES:
        raise _HttpError(413, "The request body is too large.")
    return await reader.readexactly(length) if length else b""


async def _read_chunked_body(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # skip trailers
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise _HttpError(413, "The request body is too large.")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class _Connection:
    """Writes responses on one client socket; knows whether a response has started."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.keep_alive = True
        self.response_started = False
        self.closed = False

    @property
    def peer_gone(self) -> bool:
        return self.closed or self.reader.at_eof() or self.writer.transport.is_closing()

    def _head(self, status: int, headers: Iterable[tuple[str, str]]) -> bytes:
        self.response_started = True
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"connection: {'keep-alive' if self.keep_alive else 'close'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send_json(
        self, status: int, payload: object, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        head = self._head(
            status,
            [
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
                *headers,
            ],
        )
        self.writer.write(head + body)
        await self.writer.drain()

    async def start_stream(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        head = self._head(
            200,
            [
                ("content-type", "text/event-stream; charset=utf-8"),
                ("cache-control", "no-cache"),
                ("transfer-encoding", "chunked"),
                *headers,
            ],
        )
        self.writer.write(head)
        await self.writer.drain()

    async def send_chunk(self, data: bytes) -> None:
        if data:
            self.writer.write(b"%x\r\n%b\r\n" % (len(data), data))
            await self.writer.drain()

    async def end_stream(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def close_mid_response(self) -> None:
        # close() (FIN after the buffer is flushed), not abort(): the client must receive
        # the tokens already written, then see the body end without its final chunk.
        self.closed = True
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def wait_until_peer_closes(self) -> None:
        # A hung request reads (and ignores) input so it notices the client giving up.
        self.keep_alive = False
        while await self.reader.read(65536):
            pass
        self.closed = True

    def close(self) -> None:
        self.closed = True
        self.writer.close()


# --------------------------------------------------------------------------- replies


_DIRECTIVE = re.compile(
    r"\[\[\s*(reply|tokens|fail|hang|truncate|stall|token-delay|first-token-delay|malformed)"
    r"\s*(?::(.*?))?\]\]",
    re.IGNORECASE | re.DOTALL,
)
_TOKEN = re.compile(r"\s*\S+|\s+")
_WORD = re.compile(r"\w+")


def split_tokens(text: str) -> list[str]:
    """Whitespace tokens that keep their leading spaces, so "".join(tokens) == text."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class _Directives:
    reply: str | None = None
    tokens: int | None = None
    fail: int | None = None
    hang: bool = False
    truncate: int | None = None
    stall: int | None = None
    token_delay: float | None = None
    first_token_delay: float | None = None
    malformed: int | None = None


def _parse_directives(text: str) -> tuple[_Directives, str]:
    """Directives found in a message, and the message without them."""
    found: dict[str, Any] = {}
    for match in _DIRECTIVE.finditer(text):
        name = match.group(1).lower().replace("-", "_")
        raw = (match.group(2) or "").strip()
        found[name] = _directive_value(name, raw)
    return _Directives(**found), _DIRECTIVE.sub("", text).strip()


def _directive_value(name: str, raw: str) -> object:
    if name == "reply":
        return raw
    if name == "hang":
        return True
    try:
        if name in ("token_delay", "first_token_delay"):
            seconds = float(raw)
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError(raw)
            return seconds
        count = int(raw)
        if count < 0 or (name == "fail" and not 400 <= count <= 599):
            raise ValueError(raw)
        return count
    except ValueError as exc:
        raise ApiError(
            400, f"The test directive [[{name}: {raw}]] has an invalid value.", param="messages"
        ) from exc


def _message_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _last_user_text(messages: list[object]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _message_text(message.get("content"))
    return ""


def _fit_to_tokens(text: str, count: int) -> str:
    tokens = split_tokens(text)
    if len(tokens) >= count:
        return "".join(tokens[:count])
    base = text.rstrip()
    missing = count - len(split_tokens(base))
    filler = [FILLER_WORDS[index % len(FILLER_WORDS)] for index in range(missing)]
    return " ".join([base, *filler]) if base else " ".join(filler)


@dataclass(frozen=True)
class _ReplyPlan:
    tokens: list[str]
    finish_reason: str
    token_delay: float
    first_token_delay: float
    truncate_after: int | None
    stall_after: int | None
    malformed_after: int | None = None


def _plan_reply(
    body: JsonObject, behaviour: Behaviour, directives: _Directives, echo: str
) -> _ReplyPlan:
    if directives.reply is not None:
        text = directives.reply
    elif behaviour.reply_text is not None:
        text = behaviour.reply_text
    else:
        text = f"You said: {echo}"
    wanted = directives.tokens if directives.tokens is not None else behaviour.reply_tokens
    if wanted is not None:
        text = _fit_to_tokens(text, wanted)
    tokens = split_tokens(text)

    finish_reason = "stop"
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(tokens):
        tokens, finish_reason = tokens[:limit], "length"

    return _ReplyPlan(
        tokens=tokens,
        finish_reason=finish_reason,
        token_delay=_first_set(directives.token_delay, behaviour.token_delay),
        first_token_delay=_first_set(directives.first_token_delay, behaviour.first_token_delay),
        truncate_after=_first_set(directives.truncate, behaviour.truncate_after),
        stall_after=_first_set(directives.stall, behaviour.stall_after),
        malformed_after=directives.malformed,
    )


def _first_set(override: _T | None, default: _T) -> _T:
    return default if override is None else override


def _usage(prompt_tokens: int, completion_tokens: int) -> JsonObject:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


# --------------------------------------------------------------------------- embeddings


def embed_text(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector built by signed feature hashing of lower-cased words.

    Texts that share words get a positive cosine similarity, so retrieval tests can
    rank chunks meaningfully, while the same text always gives the same vector.
    """
    vector = [0.0] * dimensions
    features = _WORD.findall(text.lower()) or [text]
    for feature in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=16).digest()
        for offset in range(0, 16, 4):  # four slots per word soften hash collisions
            slot = int.from_bytes(digest[offset : offset + 4], "little")
            sign = 1.0 if slot & 1 else -1.0
            vector[(slot >> 1) % dimensions] += sign
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:  # every slot cancelled out: fall back to a fixed direction
        vector[0], norm = 1.0, 1.0
    return [value / norm for value in vector]


def _embedding_inputs(raw: object) -> list[str]:
    # The API takes a string, a list of strings, a token-id list, or a list of those.
    if isinstance(raw, str):
        items: list[object] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(item, int) for item in raw):
        items = [raw]
    elif isinstance(raw, list) and raw:
        items = raw
    else:
        items = []
    texts: list[str] = []
    for item in items:
        if isinstance(item, str) and item:
            texts.append(item)
        elif isinstance(item, list) and item and all(isinstance(token, int) for token in item):
            texts.append(" ".join(str(token) for token in item))
        else:
            texts = []
            break
    if not texts:
        raise ApiError(
            400,
            "'input' must be a non-empty string, a list of non-empty strings, or token ids.",
            param="input",
        )
    return texts


# --------------------------------------------------------------------------- the service


class ModelService:
    """State and request handling; runs on one event loop, configured from any thread."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: Iterable[str] = DEFAULT_MODELS,
        embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
        record_limit: int = DEFAULT_RECORD_LIMIT,
        behaviour: Behaviour | None = None,
    ) -> None:
        if embedding_dimensions < 1:
            raise ValueError("embedding_dimensions must be 1 or more.")
        self.api_key = api_key
        self.models: tuple[str, ...] = tuple(models)
        self.embedding_dimensions = embedding_dimensions
        self._initial_behaviour = behaviour or Behaviour()
        self._behaviour = self._initial_behaviour
        self._records: deque[JsonObject] = deque(maxlen=record_limit)
        self._lock = threading.Lock()  # tests configure from their own thread
        self._connections: set[asyncio.Task[None]] = set()

    # ---- state shared with other threads

    @property
    def behaviour(self) -> Behaviour:
        with self._lock:
            return self._behaviour

    def configure(self, changes: Mapping[str, object], *, reset: bool = False) -> Behaviour:
        with self._lock:
            base = self._initial_behaviour if reset else self._behaviour
            self._behaviour = base.updated(changes)
            return self._behaviour

    def recorded_requests(self) -> list[JsonObject]:
        with self._lock:
            return json.loads(json.dumps(list(self._records)))  # deep copy for the caller

    def clear_requests(self) -> int:
        with self._lock:
            count = len(self._records)
            self._records.clear()
            return count

    def _record(self, request: _HttpRequest) -> None:
        headers = dict(request.headers)
        authorization = headers.get("authorization")
        if authorization is not None:
            headers["authorization"] = "[redacted]"
        try:
            body: object = json.loads(request.body) if request.body else None
        except (ValueError, UnicodeDecodeError):
            body = request.body.decode("utf-8", "replace")
        key = _bearer_key(authorization)
        entry: JsonObject = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": headers,
            "body": body,
            # A fingerprint, not the key, so tests can tell which tenant key was used.
            "api_key_sha256": hashlib.sha256(key.encode()).hexdigest() if key else None,
            "received_at": time.time(),
        }
        with self._lock:
            self._records.append(entry)

    def _take_stream_cut(self) -> bool:
        with self._lock:
            behaviour = self._behaviour
            if behaviour.cut_next <= 0:
                return False
            self._behaviour = dataclasses.replace(behaviour, cut_next=behaviour.cut_next - 1)
        return True

    def _take_injected_failure(self) -> ApiError | None:
        with self._lock:
            behaviour = self._behaviour
            if behaviour.fail_next <= 0:
                return None
            self._behaviour = dataclasses.replace(behaviour, fail_next=behaviour.fail_next - 1)
        return _injected_failure(behaviour.fail_status, behaviour.retry_after)

    # ---- serving

    async def start_server(self, host: str, port: int) -> asyncio.Server:
        # A deep backlog so a burst of hundreds of connects is not dropped and retried.
        return await asyncio.start_server(
            self._serve_connection, host, port, limit=MAX_HEAD_BYTES, backlog=2048
        )

    async def shutdown(self, server: asyncio.Server) -> None:
        server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        conn = _Connection(reader, writer)
        try:
            while not conn.closed:
                try:
                    request = await _read_request(reader, writer)
                except _HttpError as exc:
                    conn.keep_alive = False
                    await conn.send_json(exc.status, ApiError(exc.status, str(exc)).body)
                    break
                if request is None:
                    break
                conn.keep_alive = request.keep_alive
                conn.response_started = False
                await self._answer(request, conn)
                if not conn.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; there is nobody left to answer
        except asyncio.CancelledError:
            # Shutdown cancels connections. Ending the task normally instead of cancelled
            # avoids Python 3.11's streams callback logging a spurious traceback for it.
            pass
        finally:
            conn.close()
            if task is not None:
                self._connections.discard(task)

    async def _answer(self, request: _HttpRequest, conn: _Connection) -> None:
        request_id = f"req_{uuid.uuid4().hex}"
        try:
            await self._route(request, conn, request_id)
        except ApiError as exc:
            if conn.response_started:
                raise
            await conn.send_json(exc.status, exc.body, [("x-request-id", request_id), *exc.headers])
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            raise
        except Exception:
            logger.exception("Local model server failed on %s %s", request.method, request.path)
            if conn.response_started:
                await conn.close_mid_response()
                return
            conn.keep_alive = False
            error = ApiError(
                500, "The local model server crashed; see its log.", error_type="server_error"
            )
            await conn.send_json(500, error.body, [("x-request-id", request_id)])

    async def _route(self, request: _HttpRequest, conn: _Connection, request_id: str) -> None:
        path, method = request.path, request.method
        if path == "/_health":
            _require_method(request, "GET")
            await conn.send_json(200, {"status": "ok"})
        elif path == "/_control":
            _require_method(request, "GET", "POST")
            if method == "POST":
                self._apply_control(request)
            await conn.send_json(200, {"behaviour": self.behaviour.as_dict()})
        elif path == "/_requests":
            _require_method(request, "GET", "DELETE")
            if method == "DELETE":
                await conn.send_json(200, {"cleared": self.clear_requests()})
            else:
                await conn.send_json(200, self.recorded_requests())
        elif path.startswith("/v1/"):
            await self._route_api(request, conn, request_id)
        else:
            raise ApiError(404, f"Invalid URL ({method} {path}).")

    def _apply_control(self, request: _HttpRequest) -> None:
        payload = _json_object(request.body)
        reset = payload.pop("reset", False)
        if not isinstance(reset, bool):
            raise ApiError(400, "reset must be true or false.", param="reset")
        try:
            self.configure(payload, reset=reset)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc

    async def _route_api(self, request: _HttpRequest, conn: _Connection, request_id: str) -> None:
        self._record(request)
        self._check_api_key(request)
        if self.behaviour.hang:
            await conn.wait_until_peer_closes()
            return
        failure = self._take_injected_failure()
        if failure is not None:
            raise failure

        path, headers = request.path, [("x-request-id", request_id)]
        if path == "/v1/chat/completions":
            _require_method(request, "POST")
            await self._chat_completions(_json_object(request.body), conn, headers)
        elif path == "/v1/embeddings":
            _require_method(request, "POST")
            await conn.send_json(200, self._embeddings(_json_object(request.body)), headers)
        elif path == "/v1/models":
            _require_method(request, "GET")
            await conn.send_json(200, self._model_list(), headers)
        elif path.startswith("/v1/models/"):
            _require_method(request, "GET")
            model_id = path.removeprefix("/v1/models/")
            self._require_known_model(model_id)
            await conn.send_json(200, _model_object(model_id), headers)
        else:
            raise ApiError(404, f"Invalid URL ({request.method} {path}).")

    def _check_api_key(self, request: _HttpRequest) -> None:
        if self.api_key is None:
            return
        key = _bearer_key(request.headers.get("authorization"))
        if key is None:
            raise ApiError(
                401,
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                code="invalid_api_key",
            )
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise ApiError(
                401,
                f"Incorrect API key provided: {_masked(key)}. Check the key configured for"
                " this server.",
                code="invalid_api_key",
            )

    def _is_known_model(self, model_id: str) -> bool:
        return model_id in self.models or model_id.startswith("ft:")

    def _require_known_model(self, model_id: str) -> None:
        if not self._is_known_model(model_id):
            raise ApiError(
                404,
                f"The model `{model_id}` does not exist or you do not have access to it.",
                code="model_not_found",
                param="model",
            )

    def _model_list(self) -> JsonObject:
        return {"object": "list", "data": [_model_object(model) for model in self.models]}

    # ---- chat completions

    async def _chat_completions(
        self, body: JsonObject, conn: _Connection, headers: list[tuple[str, str]]
    ) -> None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ApiError(400, "You must provide a model parameter.", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, "'messages' must be a non-empty array.", param="messages")
        self._require_known_model(model)

        directives, echo = _parse_directives(_last_user_text(messages))
        if directives.hang:
            await conn.wait_until_peer_closes()
            return
        if directives.fail is not None:
            raise _injected_failure(directives.fail, self.behaviour.retry_after)

        plan = _plan_reply(body, self.behaviour, directives, echo)
        prompt_tokens = sum(
            len(split_tokens(_message_text(message.get("content"))))
            for message in messages
            if isinstance(message, dict)
        )
        if body.get("stream") is True:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            await self._stream_chat(conn, headers, model, plan, prompt_tokens, include_usage)
            return

        # Not streamed: the client waits as long as the whole stream would have taken.
        await asyncio.sleep(plan.first_token_delay + plan.token_delay * len(plan.tokens))
        completion = {
            "id": _new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "".join(plan.tokens),
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": plan.finish_reason,
                }
            ],
            "usage": _usage(prompt_tokens, len(plan.tokens)),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        await conn.send_json(200, completion, headers)

    async def _stream_chat(
        self,
        conn: _Connection,
        headers: list[tuple[str, str]],
        model: str,
        plan: _ReplyPlan,
        prompt_tokens: int,
        include_usage: bool,
    ) -> None:
        envelope: JsonObject = {
            "id": _new_id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

        def event(delta: JsonObject, finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            chunk = {**envelope, "choices": [choice]}
            if include_usage:
                chunk["usage"] = None  # as the API does: usage comes only in the last chunk
            return _sse(chunk)

        await conn.start_stream(headers)
        if self._take_stream_cut():
            await conn.send_chunk(event({"role": "assistant", "content": "", "refusal": None}))
            await conn.close_mid_response()
            return
        cutoffs = [k for k in (plan.truncate_after, plan.stall_after, plan.malformed_after)
                   if k is not None]
        visible = plan.tokens[: min(cutoffs)] if cutoffs else plan.tokens

        # The role chunk leaves together with the first token, as the real API's does.
        pending = [event({"role": "assistant", "content": "", "refusal": None})]
        loop = asyncio.get_running_loop()
        started = loop.time() + plan.first_token_delay
        for index, token in enumerate(visible):
            # Deadlines are absolute so a busy loop sends late tokens together instead of
            # drifting: a stream never takes much longer than its configured pace.
            wait = started + (index + 1) * plan.token_delay - loop.time()
            if index == 0:
                wait = max(wait, plan.first_token_delay)
            if wait > 0:
                if index > 0:
                    await conn.send_chunk(b"".join(pending))
                    pending.clear()
                await asyncio.sleep(wait)
                if conn.peer_gone:
                    conn.closed = True
                    return
            pending.append(event({"content": token}))

        await conn.send_chunk(b"".join(pending))
        if cutoffs:
            if plan.malformed_after == min(cutoffs):
                await conn.send_chunk(b'data: {"id": "chatcmpl-broken", "choices": [{"delta"\n\n')
                await conn.send_chunk(b"data: [DONE]\n\n")
                await conn.end_stream()
            elif plan.truncate_after == min(cutoffs):
                await conn.close_mid_response()
            else:
                await conn.wait_until_peer_closes()
            return

        tail = [event({}, plan.finish_reason)]
        if include_usage:
            tail.append(
                _sse({**envelope, "choices": [], "usage": _usage(prompt_tokens, len(visible))})
            )
        tail.append(b"data: [DONE]\n\n")
        await conn.send_chunk(b"".join(tail))
        await conn.end_stream()

    # ---- embeddings

    def _embeddings(self, body: JsonObject) -> JsonObject:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ApiError(400, "You must provide a model parameter.", param="model")
        self._require_known_model(model)
        texts = _embedding_inputs(body.get("input"))

        dimensions = body.get("dimensions", self.embedding_dimensions)
        if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
            raise ApiError(400, "'dimensions' must be a positive integer.", param="dimensions")
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise ApiError(
                400, "'encoding_format' must be 'float' or 'base64'.", param="encoding_format"
            )

        data = []
        for index, text in enumerate(texts):
            vector = embed_text(text, dimensions)
            embedding: object = vector
            if encoding == "base64":  # little-endian float32, as the SDK decodes it
                embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        prompt_tokens = sum(len(split_tokens(text)) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }


def _require_method(request: _HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise ApiError(
            405,
            f"Invalid method for URL ({request.method} {request.path});"
            f" use {' or '.join(allowed)}.",
        )


def _json_object(body: bytes) -> JsonObject:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "The request body is not valid JSON.") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return payload


def _bearer_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


def _masked(key: str) -> str:
    return f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"


def _model_object(model_id: str) -> JsonObject:
    owner = "user-local" if model_id.startswith("ft:") else "system"
    return {"id": model_id, "object": "model", "created": MODEL_CREATED_AT, "owned_by": owner}


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def _sse(payload: JsonObject) -> bytes:
    return b"data: %b\n\n" % json.dumps(payload, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- Python API


class LocalModelServer:
    """Runs the server on a background thread; use as a context manager.

    >>> with LocalModelServer(api_key="sk-test") as server:
    ...     client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key)
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Iterable[str] = DEFAULT_MODELS,
        embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
        record_limit: int = DEFAULT_RECORD_LIMIT,
        **behaviour: Unpack[BehaviourOptions],
    ) -> None:
        self.host = host
        self._requested_port = port
        self._service = ModelService(
            api_key=api_key,
            models=models,
            embedding_dimensions=embedding_dimensions,
            record_limit=record_limit,
            behaviour=Behaviour().updated(behaviour),
        )
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._startup_error: BaseException | None = None

    # ---- lifecycle

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("This LocalModelServer is already running.")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="local-model-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("The local model server did not start within 10 seconds.")
        if self._startup_error is not None:
            self._thread = None
            raise RuntimeError(
                f"The local model server could not start on {self.host}:{self._requested_port}."
            ) from self._startup_error
        return self

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have just closed
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._stop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # surfaced to start() when it happens at startup
            self._startup_error = exc
            if ready.is_set():
                logger.exception("The local model server stopped unexpectedly.")
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._service.start_server(self.host, self._requested_port)
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._service.shutdown(server)

    # ---- addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The local model server has not been started.")
        return self._port

    @property
    def url(self) -> str:
        """The root URL, where /_control and /_requests live."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the openai SDK takes as base_url."""
        return f"{self.url}/v1"

    @property
    def api_key(self) -> str:
        """The key a client should send: the configured one, or a placeholder."""
        return self._service.api_key or LOCAL_API_KEY

    # ---- behaviour and recording

    @property
    def behaviour(self) -> Behaviour:
        return self._service.behaviour

    def configure(self, **changes: Unpack[BehaviourOptions]) -> Behaviour:
        """Change behaviour from now on; unspecified settings keep their current value."""
        return self._service.configure(changes)

    def reset(self) -> Behaviour:
        """Back to the behaviour given to the constructor."""
        return self._service.configure({}, reset=True)

    def requests(self, path: str | None = None) -> list[JsonObject]:
        """Recorded /v1 requests, oldest first; optionally only those to one path."""
        recorded = self._service.recorded_requests()
        return [entry for entry in recorded if path is None or entry["path"] == path]

    def clear(self) -> None:
        self._service.clear_requests()


# --------------------------------------------------------------------------- command line


async def _serve_forever(service: ModelService, host: str, port: int) -> None:
    server = await service.start_server(host, port)
    bound_port = server.sockets[0].getsockname()[1]
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM (e.g. a supervisor stopping us) ends as cleanly as Ctrl-C
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    print(f"Local model server on http://{host}:{bound_port}/v1 (Ctrl-C stops it)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await service.shutdown(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.local_model_server",
        description="A local OpenAI-compatible model server for tests, benchmarks and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds per token")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds")
    parser.add_argument("--reply-tokens", type=int, default=None, help="tokens per reply")
    parser.add_argument("--reply-text", default=None, help="fixed reply text")
    parser.add_argument(
        "--models", default=",".join(DEFAULT_MODELS), help="comma-separated known model ids"
    )
    parser.add_argument("--embedding-dimensions", type=int, default=DEFAULT_EMBEDDING_DIMENSIONS)
    args = parser.parse_args(argv)

    try:
        behaviour = Behaviour().updated(
            {
                "token_delay": args.token_delay,
                "first_token_delay": args.first_token_delay,
                "reply_tokens": args.reply_tokens,
                "reply_text": args.reply_text,
            }
        )
    except ValueError as exc:
        parser.error(str(exc))
    service = ModelService(
        api_key=args.api_key,
        models=[model.strip() for model in args.models.split(",") if model.strip()],
        embedding_dimensions=args.embedding_dimensions,
        behaviour=behaviour,
    )
    try:
        asyncio.run(_serve_forever(service, args.host, args.port))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Local model server stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
