"""Errors of the API in OpenAI's shape, so the official SDKs raise the
exception that matches the status (AuthenticationError for 401,
NotFoundError for 404, RateLimitError for 429, BadRequestError for 400...)."""

from __future__ import annotations

from django.http import JsonResponse

# OpenAI's `type` for each status the API answers with.
TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "invalid_request_error", 405: "invalid_request_error",
         409: "invalid_request_error", 413: "invalid_request_error",
         429: "rate_limit_error", 500: "server_error", 502: "server_error",
         503: "server_error"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None,
                 param: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, str(message)
        self.code, self.param, self.retry_after = code, param, retry_after

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": TYPES.get(self.status, "api_error"),
                          "param": self.param, "code": self.code}}

    def response(self, headers: dict | None = None) -> JsonResponse:
        headers = dict(headers or {})
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return JsonResponse(self.body(), status=self.status, headers=headers)
