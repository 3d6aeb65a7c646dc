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

import email.utils
import functools
import hashlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import django.db
import httpx
import openai
from django.conf import settings
from django.utils.translation import gettext as _

from chat import endpoint_policy, privacy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelEndpoint:
    """Where a client's requests go, and with which credentials."""

    api_key: str
    base_url: str = ""
    organization: str = ""
    project: str = ""
    source: str = "platform"  # whose key: "platform" or "client"
    # Set when the configuration must not be used (a sentence for the tenant
    # admin); such an endpoint carries no key and every call is refused.
    refusal: str = ""

    @property
    def display_url(self) -> str:
        return self.base_url or endpoint_policy.OPENAI_DEFAULT_URL

    @property
    def is_platform(self) -> bool:
        """The platform's own endpoint (trusted); any other URL is policed."""
        return endpoint_policy.is_platform_url(self.base_url)

    def __repr__(self) -> str:  # never print the key
        return f"ModelEndpoint(source={self.source!r}, url={self.display_url!r})"


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None
    stopped: bool = False  # the employee pressed Stop


class GatewayError(Exception):
    """A model call failed. `user_message` is for the employee, `admin_message`
    says exactly what a tenant admin should fix."""

    def __init__(self, kind: str, *, user_message: str, admin_message: str,
                 retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(admin_message)
        self.kind = kind
        self.user_message = user_message
        self.admin_message = admin_message
        # Worth another attempt if nothing was shown yet (busy, 5xx, timeout,
        # a connection or stream cut); `retry_after`: the wait the server asked for.
        self.retryable = retryable
        self.retry_after = retry_after


def _ask_admin() -> str:
    return _("Please contact your workspace admin.")

_clients: dict[str, openai.OpenAI] = {}
_clients_lock = threading.Lock()


def _refused(endpoint: ModelEndpoint, reason: str) -> GatewayError:
    return GatewayError(
        "endpoint_refused",
        user_message=_("The assistant's model service is not allowed on this platform. "
                       "Please contact your workspace admin."),
        admin_message=_("Requests to %(url)s were refused: %(reason)s") % {
            "url": endpoint.display_url, "reason": reason},
    )


def _guard(endpoint: ModelEndpoint) -> None:
    """The rules no caller can skip, checked before any SDK client exists."""
    if endpoint.refusal:
        raise _refused(endpoint, endpoint.refusal)
    platform_key = settings.OPENAI_API_KEY
    if (platform_key and not endpoint.is_platform
            and hmac.compare_digest(endpoint.api_key.encode(), platform_key.encode())):
        raise _refused(endpoint, _("the platform's API key is only sent to the platform's "
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
                timeout=timeout,
                http_client=http_client,
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
    audit = {"status": "error", "error_kind": ""}
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
        audit.update(status="stopped" if completion.stopped else "ok",
                     prompt_tokens=completion.prompt_tokens,
                     completion_tokens=completion.completion_tokens)
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
                client.with_options(timeout=httpx.Timeout(timeout, connect=min(10.0, timeout))),
                endpoint=endpoint, model=model, messages=messages, temperature=temperature,
                max_tokens=max_tokens, on_delta=on_delta, parts=parts, deadline=deadline)
        except GatewayError as error:
            if parts or not error.retryable or attempt >= settings.MODEL_MAX_RETRIES:
                raise
            wait = _backoff(attempt) if error.retry_after is None else error.retry_after
            over_budget = waited + wait > settings.CHAT_RETRY_WAIT_SECONDS
            if over_budget or (deadline is not None and time.monotonic() + wait > deadline):
                if error.retry_after is not None and over_budget:
                    raise _too_busy(endpoint, wait) from error
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
            cast_to=object, stream=True, stream_cls=openai.Stream[object],
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
                    raise _past_deadline(endpoint)
    except endpoint_policy.EndpointRefused as exc:  # at connect time: nothing was sent
        raise _refused(endpoint, exc.reason) from None
    except openai.APIError as exc:
        raise _translate(exc, endpoint=endpoint, model=model, streamed=bool(parts)) from exc
    except httpx.HTTPError as exc:  # the connection broke mid-stream
        raise _truncated(endpoint) from exc
    if finish_reason is None:
        raise _truncated(endpoint)
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
            raise _malformed(endpoint) from exc
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
            raise _malformed(endpoint) from exc


def embed(*, endpoint: ModelEndpoint, model: str, texts: list[str],
          context: privacy.CallContext | None = None) -> list[list[float]]:
    """Embedding vectors for `texts`, in order (batched by the caller). The texts
    are redacted before they leave and the call is audited, as for chat."""
    context = context or privacy.default_context()
    outbound = privacy.redact_texts(context, texts)
    started = time.monotonic()
    audit = {"status": "error", "error_kind": ""}
    try:
        response = client_for(endpoint).embeddings.create(model=model, input=outbound,
                                                          encoding_format="float")
        usage = getattr(response, "usage", None)
        audit.update(status="ok", prompt_tokens=getattr(usage, "prompt_tokens", None))
    except GatewayError as exc:
        audit["error_kind"] = exc.kind
        raise
    except endpoint_policy.EndpointRefused as exc:
        audit["error_kind"] = "endpoint_refused"
        raise _refused(endpoint, exc.reason) from None
    except openai.APIError as exc:
        error = _translate(exc, endpoint=endpoint, model=model, streamed=False)
        audit["error_kind"] = error.kind
        raise error from exc
    finally:
        privacy.finish_call(context, kind="embed", endpoint=endpoint.display_url, model=model,
                            latency_ms=round((time.monotonic() - started) * 1000), **audit)
    return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]


def check_connection(*, endpoint: ModelEndpoint, model: str) -> str:
    """Used by the "Test connection" button: returns a success sentence or raises."""
    started = time.monotonic()
    audit = {"status": "error", "error_kind": ""}
    try:
        client_for(endpoint, max_retries=0).models.retrieve(model)
        audit["status"] = "ok"
    except GatewayError as exc:
        audit["error_kind"] = exc.kind
        raise
    except endpoint_policy.EndpointRefused as exc:
        audit["error_kind"] = "endpoint_refused"
        raise _refused(endpoint, exc.reason) from None
    except openai.APIError as exc:
        error = _translate(exc, endpoint=endpoint, model=model, streamed=False)
        audit["error_kind"] = error.kind
        raise error from exc
    finally:  # no content is sent, but it is an outbound call: on the record too
        privacy.finish_call(privacy.CallContext(), kind="check", endpoint=endpoint.display_url,
                            model=model, latency_ms=round((time.monotonic() - started) * 1000),
                            **audit)
    elapsed = (time.monotonic() - started) * 1000
    return _("Connected to %(url)s: the key works and model “%(model)s” is available "
             "(%(ms)s ms).") % {"url": endpoint.display_url, "model": model,
                                 "ms": f"{elapsed:.0f}"}


def _truncated(endpoint: ModelEndpoint) -> GatewayError:
    # Retried if nothing was shown yet; after that, the text so far is kept.
    return GatewayError(
        "truncated",
        user_message=_("The answer was cut off because the connection to the model service "
                       "broke. Please try again."),
        admin_message=_("The stream from %(url)s ended before it was complete.") % {
            "url": endpoint.display_url},
        retryable=True,
    )


def _malformed(endpoint: ModelEndpoint) -> GatewayError:
    return GatewayError(
        "malformed",
        user_message=_("The model service sent a malformed response, so the answer stopped "
                       "there. Please try again."),
        admin_message=_("%(url)s sent a streamed chunk that is not valid OpenAI-compatible "
                        "JSON.") % {"url": endpoint.display_url},
    )


def _past_deadline(endpoint: ModelEndpoint) -> GatewayError:
    return GatewayError(
        "deadline",
        user_message=_("The answer took longer than the %(seconds)d-second limit, so it was "
                       "stopped; what was written so far is kept. Press Retry to try again.")
        % {"seconds": settings.CHAT_ANSWER_DEADLINE_SECONDS},
        admin_message=_("%(url)s was still sending after CHAT_ANSWER_DEADLINE_SECONDS "
                        "(%(seconds)d s).") % {"url": endpoint.display_url,
                                               "seconds": settings.CHAT_ANSWER_DEADLINE_SECONDS},
    )


def _too_busy(endpoint: ModelEndpoint, seconds: float) -> GatewayError:
    return GatewayError(
        "rate_limited",
        user_message=_("The model service is too busy right now (it asked us to wait "
                       "%(seconds)d seconds). Please try again in a few minutes.")
        % {"seconds": round(seconds)},
        admin_message=_("%(url)s answered 429 with Retry-After %(seconds)d s, longer than "
                        "CHAT_RETRY_WAIT_SECONDS (%(budget)d s).")
        % {"url": endpoint.display_url, "seconds": round(seconds),
           "budget": settings.CHAT_RETRY_WAIT_SECONDS},
    )


def _retry_after(exc: openai.APIError) -> float | None:
    """The wait a 429/503 asked for (Retry-After: seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        raw = headers.get("retry-after")
        if not raw:
            return None
        try:
            return max(0.0, float(raw))
        except ValueError:
            when = email.utils.parsedate_to_datetime(raw)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _translate(
    exc: openai.APIError, *, endpoint: ModelEndpoint, model: str, streamed: bool
) -> GatewayError:
    url = endpoint.display_url
    if isinstance(exc, openai.AuthenticationError):
        return GatewayError(
            "auth",
            user_message=_("The assistant cannot reach its model: the API key was refused.")
            + " " + _ask_admin(),
            admin_message=_("%(url)s refused the API key (401). Enter a valid key under "
                            "Bot settings → Connection, or clear it to use the platform "
                            "key.") % {"url": url},
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return GatewayError(
            "permission",
            user_message=_("The assistant is not allowed to use its model.") + " "
            + _ask_admin(),
            admin_message=_("%(url)s denied access (403): the key, organization or project "
                            "may not use model “%(model)s”. Check them under Bot settings → "
                            "Connection.") % {"url": url, "model": model},
        )
    if isinstance(exc, openai.NotFoundError):
        return GatewayError(
            "model_not_found",
            user_message=_("The assistant's model is not available.") + " " + _ask_admin(),
            admin_message=_("Model “%(model)s” does not exist at %(url)s or this key cannot "
                            "use it (404). Correct the model id under Bot settings.") % {
                "model": model, "url": url},
        )
    if isinstance(exc, openai.RateLimitError):
        quota = getattr(exc, "code", None) == "insufficient_quota"
        return GatewayError(
            "rate_limited", retryable=not quota, retry_after=_retry_after(exc),
            user_message=_("The assistant is receiving too many requests right now. "
                           "Please try again in a minute."),
            admin_message=(
                _("%(url)s reports the account's quota is used up (429 insufficient_quota); "
                  "add credit or use another key.") % {"url": url}
                if quota else
                _("%(url)s kept answering 429 (rate limit) after %(retries)s retries.") % {
                    "url": url, "retries": settings.MODEL_MAX_RETRIES}
            ),
        )
    if isinstance(exc, openai.APITimeoutError):
        if streamed:
            return GatewayError(
                "stalled",
                user_message=_("The model stopped sending the answer partway (nothing came "
                               "for %(seconds)d seconds); what was written so far is kept. "
                               "Press Retry to try again.")
                % {"seconds": settings.CHAT_CHUNK_IDLE_SECONDS},
                admin_message=_("%(url)s sent nothing for CHAT_CHUNK_IDLE_SECONDS "
                                "(%(seconds)d s) in the middle of an answer.")
                % {"url": url, "seconds": settings.CHAT_CHUNK_IDLE_SECONDS},
            )
        return GatewayError(
            "timeout", retryable=True,
            user_message=_("The model took too long to answer. Please try again."),
            admin_message=_("%(url)s did not answer within %(seconds)s s after %(retries)s "
                            "retries.") % {"url": url,
                                           "seconds": f"{settings.MODEL_TIMEOUT_SECONDS:.0f}",
                                           "retries": settings.MODEL_MAX_RETRIES},
        )
    if isinstance(exc, openai.APIConnectionError):
        if streamed:
            return _truncated(endpoint)
        return GatewayError(
            "unreachable", retryable=True,
            user_message=_("The assistant could not reach its model service.") + " "
            + _ask_admin(),
            admin_message=_("Could not connect to %(url)s. Check the base URL under "
                            "Bot settings → Connection, or that the service is up.") % {
                "url": url},
        )
    if isinstance(exc, openai.BadRequestError):
        return GatewayError(
            "bad_request",
            user_message=_("The model service refused this request. Try a shorter message or "
                           "start a new chat."),
            admin_message=_("%(url)s refused the request as invalid (400): check the model "
                            "id and settings under Bot settings; a message may also be too "
                            "long for the model.") % {"url": url},
        )
    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APIStatusError) and 300 <= status < 400:
        return GatewayError(
            "redirect",
            user_message=_("The assistant could not reach its model service. Please "
                           "contact your workspace admin."),
            admin_message=_("%(url)s answered with a redirect (%(status)s); redirects are "
                            "not followed. Enter the final address of the API as the base "
                            "URL.") % {"url": url, "status": status},
        )
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return GatewayError(
            "unavailable", retryable=True, retry_after=_retry_after(exc),
            user_message=_("The model service is having problems. Please try again shortly."),
            admin_message=_("%(url)s answered %(status)s after %(retries)s retries.") % {
                "url": url, "status": exc.status_code, "retries": settings.MODEL_MAX_RETRIES},
        )
    if streamed:
        return _truncated(endpoint)
    # Never the upstream's own words: an error body may be an internal service's reply.
    admin = (_("%(url)s answered with an unexpected error (HTTP %(status)s).") if status else
             _("%(url)s sent a reply that is not a valid OpenAI-compatible API response.")
             ) % {"url": url, "status": status}
    return GatewayError(
        "error",
        user_message=_("Something went wrong while calling the model. Please try again."),
        admin_message=admin + " " + _("Check the base URL and model under Bot settings."),
    )
