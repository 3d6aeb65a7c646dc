"""How model-API failures reach people: one GatewayError per failure, with a
sentence for the employee and one for the tenant admin.

The translation table from the SDK's exceptions (and our own stream checks)
to those sentences lives here and nowhere else. What an upstream server wrote
in an error body is never passed on (it may be an internal service's reply),
only the kind of failure and the HTTP status.
"""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING

import openai
from django.conf import settings
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from llm.endpoints import ModelEndpoint


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


def refused(endpoint: ModelEndpoint, reason: str) -> GatewayError:
    return GatewayError(
        "endpoint_refused",
        user_message=_("The assistant's model service is not allowed on this platform. "
                       "Please contact your workspace admin."),
        admin_message=_("Requests to %(url)s were refused: %(reason)s") % {
            "url": endpoint.display_url, "reason": reason},
    )


def truncated(endpoint: ModelEndpoint) -> GatewayError:
    # Retried if nothing was shown yet; after that, the text so far is kept.
    return GatewayError(
        "truncated",
        user_message=_("The answer was cut off because the connection to the model service "
                       "broke. Please try again."),
        admin_message=_("The stream from %(url)s ended before it was complete.") % {
            "url": endpoint.display_url},
        retryable=True,
    )


def malformed(endpoint: ModelEndpoint) -> GatewayError:
    return GatewayError(
        "malformed",
        user_message=_("The model service sent a malformed response, so the answer stopped "
                       "there. Please try again."),
        admin_message=_("%(url)s sent a streamed chunk that is not valid OpenAI-compatible "
                        "JSON.") % {"url": endpoint.display_url},
    )


def past_deadline(endpoint: ModelEndpoint) -> GatewayError:
    return GatewayError(
        "deadline",
        user_message=_("The answer took longer than the %(seconds)d-second limit, so it was "
                       "stopped; what was written so far is kept. Press Retry to try again.")
        % {"seconds": settings.CHAT_ANSWER_DEADLINE_SECONDS},
        admin_message=_("%(url)s was still sending after CHAT_ANSWER_DEADLINE_SECONDS "
                        "(%(seconds)d s).") % {"url": endpoint.display_url,
                                               "seconds": settings.CHAT_ANSWER_DEADLINE_SECONDS},
    )


def too_busy(endpoint: ModelEndpoint, seconds: float) -> GatewayError:
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


def retry_after_seconds(exc: openai.APIError) -> float | None:
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


def translate(
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
            "rate_limited", retryable=not quota, retry_after=retry_after_seconds(exc),
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
            return truncated(endpoint)
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
    status: int | None = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APIStatusError) and 300 <= exc.status_code < 400:
        return GatewayError(
            "redirect",
            user_message=_("The assistant could not reach its model service. Please "
                           "contact your workspace admin."),
            admin_message=_("%(url)s answered with a redirect (%(status)s); redirects are "
                            "not followed. Enter the final address of the API as the base "
                            "URL.") % {"url": url, "status": exc.status_code},
        )
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return GatewayError(
            "unavailable", retryable=True, retry_after=retry_after_seconds(exc),
            user_message=_("The model service is having problems. Please try again shortly."),
            admin_message=_("%(url)s answered %(status)s after %(retries)s retries.") % {
                "url": url, "status": exc.status_code, "retries": settings.MODEL_MAX_RETRIES},
        )
    if streamed:
        return truncated(endpoint)
    # Never the upstream's own words: an error body may be an internal service's reply.
    admin = (_("%(url)s answered with an unexpected error (HTTP %(status)s).") if status else
             _("%(url)s sent a reply that is not a valid OpenAI-compatible API response.")
             ) % {"url": url, "status": status}
    return GatewayError(
        "error",
        user_message=_("Something went wrong while calling the model. Please try again."),
        admin_message=admin + " " + _("Check the base URL and model under Bot settings."),
    )
