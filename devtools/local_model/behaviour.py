"""What the server does (its behaviour and fault modes) and the API errors it answers with."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from devtools.local_model.defaults import JsonObject


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
