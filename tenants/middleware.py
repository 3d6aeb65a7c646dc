from django.shortcuts import render

from tenants import views


class HealthCheckMiddleware:
    """/healthz answers on any host (a load balancer may use the IP) before the
    tenant is looked up, so it gives its JSON even while PostgreSQL is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return views.healthz(request)
        return self.get_response(request)


class SuspendedClientMiddleware:
    """A suspended client's site answers every request with a clear page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.is_suspended and request.path != "/healthz":
            return render(request, "errors/suspended.html", {"client": tenant}, status=403)
        return self.get_response(request)
