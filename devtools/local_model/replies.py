"""Deterministic replies: per-request directives, token splitting, the reply plan."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from devtools.local_model.behaviour import ApiError, Behaviour
from devtools.local_model.defaults import _T, FILLER_WORDS, JsonObject

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
