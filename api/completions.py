"""`POST /v1/chat/completions` and `GET /v1/models`: OpenAI's shapes around the
chat's own pipeline. A request becomes a question of the token's member
(chat.services.send_api_question: rate limits, quotas, the client's line of
answers in flight, the llm worker with its instructions, knowledge,
redaction, audit and store=False); its answer is read from the same Redis
stream the browser reads, and written back as OpenAI's chunks or as one
chat.completion object. Nothing here calls the model.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections
from django.utils.text import slugify
from django.utils.translation import gettext

from api import services
from api.errors import ApiError
from api.models import ApiSettings
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat import sse, streams
from chat.models import Message
from tenants.db import current_schema

# Fields of OpenAI's request the API takes. Anything else is refused with a
# 400 naming it, never silently dropped: the client's admins set the model,
# its temperature and its length; tools, images and the like are not offered.
ACCEPTED_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "n", "store",
                             "user", "keep_history"})
# Header asking to keep the call in the member's history ("1"/"true"), like
# the body's `keep_history` (an extension field).
KEEP_HEADER = "X-Keep-History"
SYSTEM_NOTE = "(Instructions from the tool calling the assistant)\n"
MAX_BODY_BYTES = 2_000_000


def model_id(config) -> str:
    """The client's assistant as a model name: its name, slugified."""
    return slugify(config.name) or "assistant"


def models_list(*, authorization: str) -> dict:
    token = services.authenticate(authorization=authorization)
    services.check_token_rate(token=token)
    config = chat_selectors.get_bot_config()
    return {"object": "list", "data": [{
        "id": model_id(config), "object": "model",
        "created": int(config.updated.timestamp()) if config.updated else 0,
        "owned_by": getattr(getattr(connection, "tenant", None), "name", "") or "workspace"}]}


@dataclass
class Call:
    """A started API question: where its answer stream is, and how to answer."""

    schema: str
    answer_id: int
    model: str
    stream: bool
    include_usage: bool
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))


def _bad(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def _text_of(content, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(gettext("messages[%(i)d].content must be a string or a list of text "
                           "parts.") % {"i": index}, f"messages[{index}].content")
    texts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise _bad(gettext("messages[%(i)d].content[%(j)d]: only text parts are supported "
                               "(got “%(type)s”); images, audio and files are not.")
                       % {"i": index, "j": j, "type": kind or "?"},
                       f"messages[{index}].content[{j}].type", "unsupported_value")
        texts.append(part["text"])
    return "\n".join(texts)


def parse_turns(messages) -> list[chat_services.Turn]:
    if not isinstance(messages, list) or not messages:
        raise _bad(gettext("“messages” must be a non-empty list."), "messages")
    turns = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _bad(gettext("messages[%(i)d] must be an object.") % {"i": i},
                       f"messages[{i}]")
        role = message.get("role")
        if role not in ("system", "developer", "user", "assistant"):
            raise _bad(gettext("messages[%(i)d].role “%(role)s” is not supported: use system, "
                               "user or assistant.") % {"i": i, "role": role},
                       f"messages[{i}].role", "unsupported_value")
        for name in message:
            if name not in ("role", "content", "name"):
                raise _bad(gettext("messages[%(i)d].%(field)s is not supported (tools and "
                                   "function calls are not offered).")
                           % {"i": i, "field": name}, f"messages[{i}].{name}",
                           "unsupported_parameter")
        text = _text_of(message.get("content"), i)
        if role in ("system", "developer"):
            turns.append(chat_services.Turn(Message.Role.USER, SYSTEM_NOTE + text))
        else:
            turns.append(chat_services.Turn(role, text))
    if turns[-1].role != Message.Role.USER or messages[-1].get("role") != "user":
        raise _bad(gettext("The last message must be the user's question (role “user”)."),
                   "messages")
    return turns


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_request(body: bytes, *, keep_header: str = "") -> dict:
    """The request's fields, checked; ApiError 400 naming what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, gettext("The request is too large."))
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(gettext("The request body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise _bad(gettext("The request body must be a JSON object."))
    for name in data:
        if name not in ACCEPTED_FIELDS:
            raise _bad(gettext("The field “%(field)s” is not supported by your company's "
                               "assistant (its model and settings are chosen by your "
                               "workspace's admins). Remove it and try again.")
                       % {"field": name}, name, "unsupported_parameter")
    if not isinstance(data.get("model"), str) or not data["model"]:
        raise _bad(gettext("“model” is required: the assistant's name from /v1/models."),
                   "model")
    if data.get("n", 1) not in (1, None):
        raise _bad(gettext("Only one answer per request is supported (n=1)."), "n",
                   "unsupported_value")
    if data.get("store") not in (None, False):
        raise _bad(gettext("Completions are never stored at the model provider (store is "
                           "always false); to keep this call in your history, use "
                           "keep_history."), "store", "unsupported_value")
    stream = data.get("stream") or False
    if not isinstance(stream, bool):
        raise _bad(gettext("“stream” must be true or false."), "stream")
    options = data.get("stream_options") or {}
    if not isinstance(options, dict) or set(options) - {"include_usage"}:
        raise _bad(gettext("stream_options supports include_usage only."), "stream_options",
                   "unsupported_parameter")
    keep = data.get("keep_history", None)
    if keep is not None and not isinstance(keep, bool):
        raise _bad(gettext("“keep_history” must be true or false."), "keep_history")
    return {"model": data["model"], "turns": parse_turns(data.get("messages")),
            "stream": stream, "include_usage": bool(options.get("include_usage")),
            "keep": keep if keep is not None else _flag(keep_header)}


def start(*, authorization: str, body: bytes, keep_header: str = "",
          api_settings: ApiSettings | None = None) -> Call:
    """Authorise, check and send the question (in a thread, with the database);
    gives the connection back before the caller waits on the answer stream."""
    try:
        token = services.authenticate(authorization=authorization, api_settings=api_settings)
        request = parse_request(body, keep_header=keep_header)
        config = chat_selectors.get_bot_config()
        if request["model"].lower() != model_id(config):
            raise ApiError(404, gettext("The model “%(model)s” does not exist here; your "
                                        "company's assistant is “%(ours)s” (see /v1/models).")
                           % {"model": request["model"], "ours": model_id(config)},
                           param="model", code="model_not_found")
        services.check_token_rate(token=token)
        try:
            answer = chat_services.send_api_question(user=token.user, turns=request["turns"],
                                                     keep=request["keep"], config=config)
        except chat_services.ChatError as exc:
            retry = exc.retry_after if exc.status == 429 else (5 if exc.status == 503 else None)
            raise ApiError(exc.status, exc.message, retry_after=retry,
                           code="rate_limit_exceeded" if exc.status == 429 else None) from exc
        return Call(schema=current_schema(), answer_id=answer.pk, model=model_id(config),
                    stream=request["stream"], include_usage=request["include_usage"])
    finally:
        connections.close_all()  # the wait for the answer holds no connection


def _end(call: Call) -> Message | None:
    """The answer as stored (deleted now when not kept in history)."""
    try:
        return chat_services.end_api_question(answer_id=call.answer_id)
    finally:
        connections.close_all()


@dataclass
class Outcome:
    status: str = ""  # done, failed, cancelled ("" while unknown)
    text: str = ""
    error: str = ""
    usage: dict | None = None
    citations: list = field(default_factory=list)


# Once the text flows, it goes to the caller at most this often, each time
# with everything that came meanwhile (as the browser's fast path does).
SEND_SECONDS = getattr(settings, "CHAT_STREAM_SEND_MS", 100) / 1000


async def answer_events(call: Call, outcome: Outcome) -> AsyncIterator[str | None]:
    """The answer's text as it comes (None: nothing for a while, a keep-alive
    is due); `outcome` is filled in at the end. Reads Redis only."""
    reader = streams.read(call.schema, call.answer_id, after="0-0",
                          block_ms=sse.STALE_CHECK_MS)
    sent_text = False
    async for batch in reader:
        if not batch:
            state = await sync_to_async(sse.stale_state)(call.schema, call.answer_id)
            if state is None:
                yield None
                continue
            outcome.status, outcome.error = state["status"], state.get("error", "")
            return
        text = ""
        for item in batch:
            if item.event == "delta":
                text += item.data["text"]
            elif item.event == "reset":
                if sent_text:
                    # The worker died midway and the answer starts over: text
                    # already sent cannot be taken back, so the call ends failed.
                    outcome.status = "failed"
                    outcome.error = gettext("The assistant stopped while answering. Please "
                                            "try again.")
                    return
                text = ""  # the dead attempt's, never sent
            elif item.event in streams.END_EVENTS:
                outcome.status = item.event
                outcome.error = item.data.get("error", "")
                outcome.usage = item.data.get("usage")
                outcome.citations = item.data.get("citations") or []
        if text:
            outcome.text += text
            sent_text = True
            sent_at = time.monotonic()
            yield text
            if not outcome.status:
                # Let the next pieces gather: fewer, larger chunks under load
                # (the first piece went at once: it is the time to first token).
                await asyncio.sleep(max(0.0, SEND_SECONDS - (time.monotonic() - sent_at)))
        if outcome.status:
            return


def _usage(usage: dict | None) -> dict:
    prompt = (usage or {}).get("prompt_tokens") or 0
    completion = (usage or {}).get("completion_tokens") or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _failure(outcome: Outcome) -> ApiError:
    return ApiError(502, outcome.error or gettext("The assistant could not answer. Please "
                                                  "try again."), code="model_error")


async def complete(call: Call) -> dict:
    """The whole answer as one chat.completion object (ApiError if it failed)."""
    outcome = Outcome()
    try:
        async for _text in answer_events(call, outcome):
            pass
    finally:
        stored = await sync_to_async(_end)(call)
    if outcome.status == "failed":
        raise _failure(outcome)
    text = outcome.text
    if outcome.usage is None and stored is not None:  # ended while nobody read the stream
        text = stored.content
        outcome.usage = {"prompt_tokens": stored.prompt_tokens,
                         "completion_tokens": stored.completion_tokens}
        outcome.citations = stored.citations
    return {
        "id": call.id, "object": "chat.completion", "created": call.created,
        "model": call.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(outcome.usage),
        # Extension: the knowledge passages the answer was given ([n] in its text).
        "citations": outcome.citations,
    }


def _chunk(call: Call, delta: dict, finish_reason: str | None = None, **extra) -> str:
    body = {"id": call.id, "object": "chat.completion.chunk", "created": call.created,
            "model": call.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                         "logprobs": None}], **extra}
    return f"data: {json.dumps(body)}\n\n"


async def chunks(call: Call) -> AsyncIterator[str]:
    """Server-sent events in OpenAI's streaming shape, ending with [DONE]."""
    outcome = Outcome()
    ended = False
    try:
        yield _chunk(call, {"role": "assistant", "content": ""})
        async for text in answer_events(call, outcome):
            yield ": keep-alive\n\n" if text is None else _chunk(call, {"content": text})
        # Deleted (when not kept) before the last event: a caller that read to
        # the end finds nothing left but the audit record.
        await sync_to_async(_end)(call)
        ended = True
        if outcome.status == "failed":
            yield f"data: {json.dumps(_failure(outcome).body())}\n\n"
            return
        yield _chunk(call, {}, "stop", citations=outcome.citations)
        if call.include_usage:
            yield ("data: " + json.dumps({
                "id": call.id, "object": "chat.completion.chunk", "created": call.created,
                "model": call.model, "choices": [], "usage": _usage(outcome.usage)}) + "\n\n")
        yield "data: [DONE]\n\n"
    except streams.StreamUnavailable:
        yield f"data: {json.dumps(ApiError(503, chat_services.unavailable_message()).body())}\n\n"
    finally:
        # Also when the caller hangs up midway: the answer is stopped, and
        # deleted once ended when not kept in history.
        if not ended:
            await sync_to_async(_end)(call)
