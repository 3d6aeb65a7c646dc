"""Error pages (400, 403, 404) rendered in the request's own thread and schema.

The URLconfs name these as handler400/403/404. The 500 page is left to Django
(or its own handler): it uses no request context and so no database.
"""

import logging
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from functools import wraps

from asgiref.sync import AsyncToSync, SyncToAsync
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.views import defaults

logger = logging.getLogger(__name__)

# How long a spare thread waits for the request's thread before rendering itself.
REQUEST_THREAD_WAIT_SECONDS = 10


def _in_the_requests_thread(view):
    """Run an error view in the request's own thread, on the request's connection.

    Under ASGI, Django renders the response for an exception raised in async
    code (a URL that resolves to nothing, an async view) in a spare thread:
    `sync_to_async(response_for_exception, thread_sensitive=False)`. Database
    connections are per thread, and that thread's connection pointed at the
    public schema (or whichever client it served last). The error page is the
    first thing to touch `request.user`, so the session was looked up in the
    wrong schema, not found, and SessionMiddleware then answered
    `Set-Cookie: sessionid=""; Max-Age=0`: a link to /x signed the person out.
    The spare thread also took a second pool connection while the request held
    one (a burst of 404s could empty the pool) and kept it for good.

    So the view is handed to the executor that runs the request's
    thread-sensitive code (the one `sync_to_async(thread_sensitive=True)` would
    pick in the context the exception came from), and the spare thread waits.
    If that executor cannot be found, the page is rendered here against the
    request's schema, and this thread's connection is handed back afterwards.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        executor = _request_thread_executor() if isinstance(request, ASGIRequest) else None
        if executor is not None:
            try:
                future = executor.submit(_pinned(view), request, *args, **kwargs)
            except RuntimeError:  # that executor has quit: render here
                pass
            else:
                try:
                    return future.result(timeout=REQUEST_THREAD_WAIT_SECONDS)
                except FutureTimeout:
                    if future.cancel():  # never started: render here instead
                        logger.warning("Error page not rendered in the request's thread")
                    else:
                        return future.result()
        try:
            return _pinned(view)(request, *args, **kwargs)
        finally:
            if executor is not None and not connection.in_atomic_block:
                connection.close()  # a spare thread's connection goes back to the pool

    return wrapper


def _request_thread_executor():
    """The executor of the request's thread-sensitive code, seen from a spare
    thread that asgiref started in the request's context; None in that thread."""
    current = getattr(AsyncToSync.executors, "current", None)
    if current is not None:
        # A sync middleware above is waiting in async_to_sync: its thread runs this.
        return None if threading.current_thread() is current._work_thread else current
    context = SyncToAsync.thread_sensitive_context.get(None)
    executor = SyncToAsync.context_to_thread_executor.get(context) if context else None
    if executor is None or threading.current_thread() in getattr(executor, "_threads", ()):
        return None
    return executor


def _pinned(view):
    """The view against the request's client schema (a no-op in the request's thread)."""

    @wraps(view)
    def run(request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and getattr(connection, "tenant", None) != tenant:
            connection.set_tenant(tenant)
        return view(request, *args, **kwargs)

    return run


bad_request = _in_the_requests_thread(defaults.bad_request)
permission_denied = _in_the_requests_thread(defaults.permission_denied)
page_not_found = _in_the_requests_thread(defaults.page_not_found)
