"""The one gateway to the model API (official `openai` SDK).

Everything that talks to a model goes through here: chat streaming, the
connection test, and embeddings. Errors come out as GatewayError with one
sentence for the employee and one for the tenant admin; what an upstream
server wrote in an error body is never passed on (it may be an internal
service's reply), only the kind of failure and the HTTP status.

Two rules hold for every call, whoever built the endpoint: the platform's API
key only ever goes to the platform's own endpoint, and any other endpoint is
reached through `endpoint_policy.PinnedTransport` (https, public addresses
only, checked and pinned on every connection, no redirects).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypedDict

import django.db
import httpx
import openai
from django.conf import settings
from django.utils.translation import gettext as _

from core import endpoint_policy
from llm import privacy
from llm.endpoints import ModelEndpoint
from llm.errors import (
    GatewayError,
    malformed,
    past_deadline,
    refused,
    too_busy,
    translate,
    truncated,
)

logger = logging.getLogger(__name__)


class _Audit(TypedDict, total=False):
    """What a call's audit record says of its outcome (privacy.finish_call)."""

    status: str
    error_kind: str
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None
    stopped: bool = False  # the employee pressed Stop


_clients: dict[str, openai.OpenAI] = {}
_clients_lock = threading.Lock()


def _guard(endpoint: ModelEndpoint) -> None:
    """The rules no caller can skip, checked before any SDK client exists."""
    if endpoint.refusal:
        raise refused(endpoint, endpoint.refusal)
    platform_key = settings.OPENAI_API_KEY
    if (platform_key and not endpoint.is_platform
            and hmac.compare_digest(endpoint.api_key.encode(), platform_key.encode())):
        raise refused(endpoint, _("the platform's API key is only sent to the platform's "
                                   "own endpoint. Enter your own API key for this base URL, "
                                   "or clear it."))


def client_for(endpoint: ModelEndpoint, *, max_retries: int | None = None) -> openai.OpenAI:
    """One SDK client per endpoint and process, so HTTP connections are reused.
    Client-chosen endpoints get the pinned, policy-checking transport."""
    _guard(endpoint)
    retries = settings.MODEL_MAX_RETRIES if max_retries is None else max_retries
    fingerprint = hashlib.sha256(
        "\0".join([endpoint.api_key, endpoint.base_url, endpoint.organization,
                   endpoint.project, str(retries)]).encode()
    ).hexdigest()
    with _clients_lock:
        client = _clients.get(fingerprint)
        if client is None:
            limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
            timeout = httpx.Timeout(settings.MODEL_TIMEOUT_SECONDS, connect=10.0)
            if endpoint.is_platform:
                http_client = httpx.Client(limits=limits, timeout=timeout)
            else:
                http_client = httpx.Client(
                    transport=endpoint_policy.PinnedTransport(limits=limits),
                    timeout=timeout, follow_redirects=False, trust_env=False,
                )
            client = openai.OpenAI(
                api_key=endpoint.api_key,
                base_url=endpoint.base_url or None,
                organization=endpoint.organization or None,
                project=endpoint.project or None,
                max_retries=retries,
                # The SDK's own Timeout type (httpx2's in openai 3.x, httpx's before).
                timeout=openai.Timeout(settings.MODEL_TIMEOUT_SECONDS, connect=10.0),
                # openai 3.x is typed for an httpx2 client; ours is httpx's, because
                # PinnedTransport is an httpx transport. The SDK only calls the client's
                # send/close, which both libraries share (tests/llm and tests/core cover it).
                http_client=http_client,  # type: ignore[arg-type]
            )
            _clients[fingerprint] = client
        return client


def stream_chat(
    *,
    endpoint: ModelEndpoint,
    model: str,
    messages: list[dict[str, str]],
    temperature: float,
    max_tokens: int,
    on_delta: Callable[[str], bool],
    context: privacy.CallContext | None = None,
    on_wait: Callable[[GatewayError, float], bool] | None = None,
    deadline: float | None = None,
    on_audit_failure: Callable[[Callable[[], None]], None] | None = None,
) -> Completion:
    """Stream a chat completion; `on_delta` gets each piece of text and returns
    False to stop early (the partial text is kept).

    Until the first piece of text, a 429 (honouring Retry-After), a 5xx, a
    timeout, a refused connection or a stream cut short is tried again, up to
    MODEL_MAX_RETRIES times and CHAT_RETRY_WAIT_SECONDS of waiting in all;
    `on_wait(error, seconds)` is told before each wait (it tells the employee,
    waits, and returns False to give up: the employee pressed Stop). After
    text was shown a break is final: `truncated`, `stalled` (nothing for
    CHAT_CHUNK_IDLE_SECONDS) or `malformed`. `deadline` (time.monotonic())
    ends the answer as `deadline`, its text so far kept. If the audit record
    cannot be written (database down), `on_audit_failure` gets the recorder
    to run later instead of the answer failing.

    Every call passes the privacy step: personal data is replaced by
    placeholders before it leaves, the originals are put back into what
    `on_delta` and the result carry, and the call goes on the audit trail.
    """
    context = context or privacy.default_context()
    outbound = privacy.redact_messages(context, messages)
    restorer = privacy.restorer(context)

    def restored_delta(text: str) -> bool:
        ready = restorer.feed(text)
        return on_delta(ready) if ready else True

    started = time.monotonic()
    audit: _Audit = {"status": "error", "error_kind": ""}
    try:
        completion = _stream_chat(endpoint=endpoint, model=model, messages=outbound,
                                  temperature=temperature, max_tokens=max_tokens,
                                  on_delta=restored_delta, on_wait=on_wait, deadline=deadline)
    except GatewayError as exc:
        audit["error_kind"] = exc.kind
        raise
    else:
        tail = restorer.flush()
        if tail:
            on_delta(tail)
        audit.update(_Audit(status="stopped" if completion.stopped else "ok",
                            prompt_tokens=completion.prompt_tokens,
                            completion_tokens=completion.completion_tokens))
        return Completion(
            text=privacy.restore(context, completion.text),
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            finish_reason=completion.finish_reason, stopped=completion.stopped,
        )
    finally:
        record = functools.partial(
            privacy.finish_call, context, kind="chat", endpoint=endpoint.display_url,
            model=model, latency_ms=round((time.monotonic() - started) * 1000), **audit)
        try:
            record()
        except django.db.Error:
            # The database went away while the model wrote: the answer is not
            # lost for it; the caller records the call once the database is back.
            if on_audit_failure is None:
                raise
            logger.warning("Audit record of a chat call deferred: the database is unreachable")
            on_audit_failure(record)


def _stream_chat(
    *,
    endpoint: ModelEndpoint,
    model: str,
    messages: list[dict[str, str]],
    temperature: float,
    max_tokens: int,
    on_delta: Callable[[str], bool],
    on_wait: Callable[[GatewayError, float], bool] | None = None,
    deadline: float | None = None,
) -> Completion:
    # Our own retries (not the SDK's): the employee is told about each wait,
    # and the waits are bounded in all.
    client = client_for(endpoint).with_options(max_retries=0)
    idle = settings.CHAT_CHUNK_IDLE_SECONDS
    waited = 0.0
    attempt = 0
    while True:
        parts: list[str] = []
        timeout = idle if deadline is None else max(1.0, min(idle, deadline - time.monotonic()))
        try:
            return _stream_once(
                client.with_options(timeout=openai.Timeout(timeout, connect=min(10.0, timeout))),
                endpoint=endpoint, model=model, messages=messages, temperature=temperature,
                max_tokens=max_tokens, on_delta=on_delta, parts=parts, deadline=deadline)
        except GatewayError as error:
            if parts or not error.retryable or attempt >= settings.MODEL_MAX_RETRIES:
                raise
            wait = _backoff(attempt) if error.retry_after is None else error.retry_after
            over_budget = waited + wait > settings.CHAT_RETRY_WAIT_SECONDS
            if over_budget or (deadline is not None and time.monotonic() + wait > deadline):
                if error.retry_after is not None and over_budget:
                    raise too_busy(endpoint, wait) from error
                raise
            attempt += 1
            waited += wait
            logger.info("Model call to %s failed (%s); attempt %d in %.1f s",
                        endpoint.display_url, error.kind, attempt + 1, wait)
            if on_wait is None:
                time.sleep(wait)
            elif not on_wait(error, wait):
                return Completion(text="", prompt_tokens=None, completion_tokens=None,
                                  finish_reason="stopped", stopped=True)


def _backoff(attempt: int) -> float:
    """Seconds before another attempt when the server did not say: 1, 2, 4... ±25 %."""
    return min(8.0, 2.0 ** attempt) * random.uniform(0.75, 1.25)


class _ChunkStream(openai.Stream[object]):
    """The SDK's stream of chat chunks with a leaner SSE reader: `data:` lines
    split from each piece of the body at once and one json.loads per event,
    where the SDK's decoder walks the bytes line by line through several
    generators (~3.5 ms of CPU per 200-token answer, issue 11). The rest is
    the SDK's: the request, its error types, and what it does with an error
    event or a broken or timed-out body. Lines end in LF or CRLF (a lone CR,
    which SSE allows but no model API sends, is not taken as a line end)."""

    def __stream__(self) -> Iterator[object]:
        response = self.response
        loads = json.loads
        try:
            pending = b""
            data: list[bytes] = []
            try:
                for piece in response.iter_bytes():
                    lines = (pending + piece).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        if line.endswith(b"\r"):
                            line = line[:-1]
                        if line:  # a field; only `data` matters to chat chunks
                            if line.startswith(b"data:"):
                                value = line[5:]
                                data.append(value[1:] if value.startswith(b" ") else value)
                            continue
                        if not data:  # a blank line ends an event
                            continue
                        text, data = b"\n".join(data), []
                        if text.startswith(b"[DONE]"):
                            return
                        chunk = loads(text)
                        if isinstance(chunk, dict) and chunk.get("error"):
                            error = chunk["error"]
                            message = error.get("message") if isinstance(error, dict) else None
                            raise openai.APIError(
                                message=message if isinstance(message, str) and message
                                else "An error occurred during streaming",
                                request=response.request,
                                body=error)
                        yield chunk
            except httpx.TimeoutException as err:
                raise openai.APITimeoutError(
                    request=response.request) from err
            except (httpx.RequestError, ssl.SSLError) as err:
                raise openai.APIConnectionError(
                    request=response.request) from err
        finally:
            response.close()


def _stream_once(
    client: openai.OpenAI,
    *,
    endpoint: ModelEndpoint,
    model: str,
    messages: list[dict[str, str]],
    temperature: float,
    max_tokens: int,
    on_delta: Callable[[str], bool],
    parts: list[str],
    deadline: float | None,
) -> Completion:
    usage = None
    finish_reason = None
    try:
        # The SDK's own request, SSE decoding, error events and error types, but
        # chunks as plain dicts: its typed chunk objects cost ~60 µs each to
        # build, most of what a token costs the worker (issue 11).
        stream = client.post(
            "/chat/completions",
            body={"model": model, "messages": messages, "temperature": temperature,
                  "max_tokens": max_tokens, "stream": True,
                  "stream_options": {"include_usage": True}, "store": False},
            cast_to=object, stream=True, stream_cls=_ChunkStream,
        )
        with stream:
            for chunk_usage, chunk_finish, text in _chunks(stream, endpoint):
                usage = chunk_usage or usage
                finish_reason = chunk_finish or finish_reason
                if text:
                    parts.append(text)
                    if not on_delta(text):
                        return Completion(
                            text="".join(parts), prompt_tokens=None,
                            completion_tokens=None, finish_reason="stopped", stopped=True,
                        )
                if deadline is not None and time.monotonic() > deadline:
                    raise past_deadline(endpoint)
    except endpoint_policy.EndpointRefused as exc:  # at connect time: nothing was sent
        raise refused(endpoint, exc.reason) from None
    except openai.APIError as exc:
        raise translate(exc, endpoint=endpoint, model=model, streamed=bool(parts)) from exc
    except httpx.HTTPError as exc:  # the connection broke mid-stream
        raise truncated(endpoint) from exc
    if finish_reason is None:
        raise truncated(endpoint)
    return Completion(
        text="".join(parts),
        prompt_tokens=usage.get("prompt_tokens") if usage else None,
        completion_tokens=usage.get("completion_tokens") if usage else None,
        finish_reason=finish_reason,
    )


def _chunks(stream, endpoint: ModelEndpoint) -> Iterator[tuple[dict | None, str | None,
                                                                str | None]]:
    """(usage, finish_reason, text) per chunk (a dict, as the API sent it); a
    chunk that is not the JSON an OpenAI-compatible API sends is reported as
    `malformed`."""
    iterator = iter(stream)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # bad JSON or shape
            raise malformed(endpoint) from exc
        try:
            usage = chunk.get("usage")
            if usage is not None and not isinstance(usage, dict):
                raise TypeError(type(usage).__name__)
            choices = chunk.get("choices")
            if not choices:
                yield usage, None, None
                continue
            choice = choices[0]
            delta = choice.get("delta")
            text = delta.get("content") if delta else None
            finish_reason = choice.get("finish_reason")
            if text is not None and not isinstance(text, str):
                raise TypeError(type(text).__name__)
            if finish_reason is not None and not isinstance(finish_reason, str):
                raise TypeError(type(finish_reason).__name__)
            yield usage, finish_reason, text
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise malformed(endpoint) from exc


@contextlib.contextmanager
def _recorded_call(context: privacy.CallContext, *, kind: str, endpoint: ModelEndpoint,
                   model: str) -> Iterator[_Audit]:
    """One call that is not streamed: a refused URL or an SDK error becomes a
    GatewayError, and the call is recorded (privacy.finish_call) however it ends.
    The body sets `status` (and token counts) in the dict it is given."""
    started = time.monotonic()
    audit: _Audit = {"status": "error", "error_kind": ""}
    try:
        yield audit
    except GatewayError as exc:
        audit["error_kind"] = exc.kind
        raise
    except endpoint_policy.EndpointRefused as exc:
        audit["error_kind"] = "endpoint_refused"
        raise refused(endpoint, exc.reason) from None
    except openai.APIError as exc:
        error = translate(exc, endpoint=endpoint, model=model, streamed=False)
        audit["error_kind"] = error.kind
        raise error from exc
    finally:
        privacy.finish_call(context, kind=kind, endpoint=endpoint.display_url, model=model,
                            latency_ms=round((time.monotonic() - started) * 1000), **audit)


def embed(*, endpoint: ModelEndpoint, model: str, texts: list[str],
          context: privacy.CallContext | None = None) -> list[list[float]]:
    """Embedding vectors for `texts`, in order (batched by the caller). The texts
    are redacted before they leave and the call is audited, as for chat."""
    context = context or privacy.default_context()
    outbound = privacy.redact_texts(context, texts)
    with _recorded_call(context, kind="embed", endpoint=endpoint, model=model) as audit:
        response = client_for(endpoint).embeddings.create(model=model, input=outbound,
                                                          encoding_format="float")
        usage = getattr(response, "usage", None)
        audit.update(_Audit(status="ok", prompt_tokens=getattr(usage, "prompt_tokens", None)))
    return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]


def check_connection(*, endpoint: ModelEndpoint, model: str) -> str:
    """Used by the "Test connection" button: returns a success sentence or raises."""
    started = time.monotonic()
    # No content is sent, but it is an outbound call: on the record too.
    with _recorded_call(privacy.CallContext(), kind="check", endpoint=endpoint,
                        model=model) as audit:
        client_for(endpoint, max_retries=0).models.retrieve(model)
        audit["status"] = "ok"
    elapsed = (time.monotonic() - started) * 1000
    return _("Connected to %(url)s: the key works and model “%(model)s” is available "
             "(%(ms)s ms).") % {"url": endpoint.display_url, "model": model,
                                 "ms": f"{elapsed:.0f}"}


