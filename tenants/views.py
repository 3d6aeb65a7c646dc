import sys

from django.db import DatabaseError, DataError, IntegrityError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from core.version import version
from tenants import health


@never_cache
def healthz(request):
    parts = health.status()
    healthy = all(value == "ok" for value in parts.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "version": version(), **parts},
        status=200 if healthy else 503
    )


def platform_home(request):
    return render(request, "platform/home.html")


def unknown_host(request):
    return render(request, "errors/unknown_host.html", status=404)


UNAVAILABLE = _("The service is temporarily unavailable: its database does not answer. "
                "Nothing you saved is lost; please try again in a minute.")


def server_error(request):
    """The 500 handler: a database that is down or does not answer in time is a
    503 with a sentence saying so, not a generic error. Rendered without
    context processors (they may need the database)."""
    error = sys.exc_info()[1]
    # A value the database refuses (DataError) or a broken constraint is a
    # bug to fix, not an outage: those stay a 500.
    if isinstance(error, DatabaseError) and not isinstance(error, (DataError, IntegrityError)):
        if "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": str(UNAVAILABLE)}, status=503)
        else:
            response = HttpResponse(loader.render_to_string("errors/unavailable.html"),
                                    status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)
