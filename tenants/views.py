from functools import wraps

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache

from tenants import health


@never_cache
def healthz(request):
    parts = health.status()
    healthy = all(value == "ok" for value in parts.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **parts}, status=200 if healthy else 503
    )


def platform_home(request):
    return render(request, "platform/home.html")


def unknown_host(request):
    return render(request, "errors/unknown_host.html", status=404)


def _in_the_requests_schema(view):
    """Run an error view against the request's client schema.

    Under ASGI, Django renders the response for an exception raised outside a
    view (a URL that resolves to nothing, a middleware) in a worker thread of
    its own: `sync_to_async(response_for_exception, thread_sensitive=False)`.
    Database connections are per thread, and that thread's connection still
    points at the public schema (or whichever client it served last). The
    error page is the first thing to touch `request.user`, so the session was
    looked up in the wrong schema, not found, and SessionMiddleware then
    answered `Set-Cookie: sessionid=""; Max-Age=0`: a link to /x signed the
    person out. Pointing this thread's connection at the request's client
    first makes the lookup find the session (and never another client's data).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            connection.set_schema_to_public()
        elif getattr(connection, "tenant", None) != tenant:
            connection.set_tenant(tenant)
        return view(request, *args, **kwargs)

    return wrapper


bad_request = _in_the_requests_schema(defaults.bad_request)
permission_denied = _in_the_requests_schema(defaults.permission_denied)
page_not_found = _in_the_requests_schema(defaults.page_not_found)
server_error = _in_the_requests_schema(defaults.server_error)
