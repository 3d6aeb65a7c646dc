"""Text a database cannot store is refused at the door with a 400.

PostgreSQL text cannot hold a NUL character, and a lone UTF-16 surrogate
(`\\ud800`, which a JSON body can spell) cannot be encoded at all; either one
used to reach a query or a save and end as a 500. Rather than hoping every
form field, query parameter and upload name is checked on its way in, this
middleware looks at everything a person can type before any view runs:
query strings (including invalid UTF-8, which Django would otherwise turn into
replacement characters silently), form fields, JSON bodies and the names of
uploaded files. The answer is a 400 with a sentence saying what to fix. A
cookie holding such text (a session id a database lookup would use) is
ignored instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.translation import gettext


def bad_text(value: str) -> bool:
    """True if PostgreSQL could not store this text: a NUL or a lone surrogate."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _strings(data: Any) -> Iterator[str]:
    """Every key and string value in parsed JSON."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _bad_query(raw: str) -> bool:
    # The query string as sent (WSGI and ASGI both hand it over as latin-1).
    if not raw:
        return False
    try:
        raw_bytes = raw.encode("latin-1")
    except UnicodeEncodeError:  # ASGI servers may hand over already-decoded UTF-8
        raw_bytes = raw.encode("utf-8", "surrogatepass")
    data = unquote_to_bytes(raw_bytes.replace(b"+", b" "))
    try:
        return bad_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return True


def _bad_querydict(querydict) -> bool:
    return any(bad_text(key) or any(bad_text(v) for v in values if isinstance(v, str))
               for key, values in querydict.lists())


def problem(request: HttpRequest) -> bool:
    """True if anything a person typed into this request cannot be stored."""
    if _bad_query(request.META.get("QUERY_STRING", "")):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return _bad_query(request.body.decode("latin-1"))
    if content_type == "multipart/form-data":
        try:
            if _bad_querydict(request.POST):
                return True
        except MultiPartParserError:
            return False  # the view answers a malformed upload itself (no field reaches it)
        return any(bad_text(upload.name or "") or bad_text(field)
                   for field, upload in request.FILES.items())
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return True
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            return False  # malformed JSON is the view's to refuse, with its own reason
        return any(bad_text(value) for value in _strings(data))
    return False


def _drop_unstorable_cookies(request: HttpRequest) -> None:
    """A session id goes into a database query: a cookie holding a NUL is
    ignored (the visitor is simply not signed in) rather than answered with an
    error that would last until they clear their cookies."""
    if any(bad_text(name) or bad_text(value) for name, value in request.COOKIES.items()):
        request.COOKIES = {name: value for name, value in request.COOKIES.items()
                           if not (bad_text(name) or bad_text(value))}


def refusal(request: HttpRequest) -> HttpResponse:
    message = gettext(
        "Your request contains characters that cannot be stored (a NUL character or "
        "broken text encoding). Remove them and try again.")
    if "application/json" in request.headers.get("Accept", "") or (
            request.content_type or "").endswith("json"):
        return JsonResponse({"error": message}, status=400)
    return HttpResponse(render_to_string("400.html", {"message": message}), status=400)


class RejectUnstorableTextMiddleware:
    """Answers 400 to a request carrying text the database cannot store."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        _drop_unstorable_cookies(request)
        if problem(request):
            return refusal(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest):
        # A GET costs nothing here (no thread hop: the answer stream is async);
        # a body is parsed in a thread, as Django's own middleware would.
        _drop_unstorable_cookies(request)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            bad = problem(request)
        else:
            bad = await sync_to_async(problem)(request)
        if bad:
            return refusal(request)
        return await self.get_response(request)
