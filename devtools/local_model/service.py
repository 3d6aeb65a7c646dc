"""The request handling and state of the local model server (one event loop)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping

from devtools.local_model.behaviour import ApiError, Behaviour, _injected_failure
from devtools.local_model.defaults import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    DEFAULT_MODELS,
    DEFAULT_RECORD_LIMIT,
    MAX_HEAD_BYTES,
    MODEL_CREATED_AT,
    SYSTEM_FINGERPRINT,
    JsonObject,
)
from devtools.local_model.embeddings import _embedding_inputs, embed_text
from devtools.local_model.http11 import _Connection, _HttpError, _HttpRequest, _read_request
from devtools.local_model.replies import (
    _last_user_text,
    _message_text,
    _parse_directives,
    _plan_reply,
    _ReplyPlan,
    _usage,
    split_tokens,
)

logger = logging.getLogger(__name__)

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
