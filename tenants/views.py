from django.http import JsonResponse
from django.shortcuts import render
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
